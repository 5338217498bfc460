By_sJ
×#=