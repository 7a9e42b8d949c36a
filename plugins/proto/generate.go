// Package proto holds the gRPC protocol between hookrelay and its handler
// plugins: handler.proto and the Go code generated from it. The generated
// files are committed, so building hookrelay needs no protoc.
//
// Regenerate after editing handler.proto (from this directory) with the
// tools used for the committed files:
//
//	protoc                libprotoc 3.21.12 (Debian protobuf-compiler)
//	protoc-gen-go         v1.36.12 (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12)
//	protoc-gen-go-grpc    v1.6.2   (go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2)
package proto

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative handler.proto
