BbJ
 Ýžv¸Jhj