module github.com/hookrelay/hookrelay/sdks/go

go 1.24
