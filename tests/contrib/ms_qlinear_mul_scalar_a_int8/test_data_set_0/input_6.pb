Bc_sJ
×#=