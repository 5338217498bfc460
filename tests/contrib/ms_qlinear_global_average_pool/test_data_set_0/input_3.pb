By_sJ
×#<