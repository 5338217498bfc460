Bx_zJ
