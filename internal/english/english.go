// Package english writes counts the way a person would: "1 route",
// "2 routes", "both nodes". Every message of the CLI and of drover plan
// that counts something goes through it, so none says "1 routes".
package english

import (
	"strconv"
	"strings"
)

// Count is n followed by noun in the number n asks for: "1 route",
// "0 routes", "3 tenant addresses". Only the last word of noun changes.
func Count(n int, noun string) string {
	return strconv.Itoa(n) + " " + Noun(n, noun)
}

// Noun is noun in the number n asks for: singular for 1, plural
// otherwise ("route", "routes").
func Noun(n int, noun string) string {
	if n == 1 || n == -1 {
		return noun
	}
	return Plural(noun)
}

// All names the whole of a group of n: "the node" for one, "both nodes"
// for two, "all 3 nodes" for more.
func All(n int, noun string) string {
	switch n {
	case 1:
		return "the " + noun
	case 2:
		return "both " + Plural(noun)
	}
	return "all " + Count(n, noun)
}

// Plural is the plural of a singular noun (its last word): "routes",
// "addresses", "entries", "diffs". Nouns drover counts follow these
// rules; add an exception here when one does not.
func Plural(noun string) string {
	switch {
	case noun == "":
		return ""
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "z"),
		strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return noun + "es"
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	}
	return noun + "s"
}
