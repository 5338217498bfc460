Ba_sJ
×#=