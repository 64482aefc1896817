module pvv.local/images/pause

go 1.22
