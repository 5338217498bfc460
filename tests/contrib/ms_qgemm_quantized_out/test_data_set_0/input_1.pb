Ba_sJ
ף<