By_sJ
ף<