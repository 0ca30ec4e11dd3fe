package launch

import (
	"bufio"
	"os"
	"strings"
)

// PasswdFile is read for login shells, which os/user does not report.
var PasswdFile = "/etc/passwd"

// loginShell returns the shell field of name's line in PasswdFile, or "".
func loginShell(name string) string {
	f, err := os.Open(PasswdFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && fields[0] == name {
			return fields[6]
		}
	}
	return ""
}
