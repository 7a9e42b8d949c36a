//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

// oneCPUStarter is Linux only.
func oneCPUStarter(int) (func(*exec.Cmd) error, error) {
	return nil, errors.New("-start-cpu is Linux only")
}
