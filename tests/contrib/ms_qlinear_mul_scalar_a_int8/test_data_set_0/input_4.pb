Bb_sJ
ף<