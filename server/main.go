// Command baton is the Baton course server. With no arguments it serves;
// "baton check-content" validates the course files and exits.
package main

import (
	"os"

	"github.com/baton-course/baton/server/app"
)

func main() {
	os.Exit(app.Command(os.Args[1:]))
}
