Bx_sJ
ף<