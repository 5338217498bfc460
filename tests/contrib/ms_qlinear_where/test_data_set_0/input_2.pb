Bx_sJ
×#=