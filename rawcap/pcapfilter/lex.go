package pcapfilter

import (
	"fmt"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tEnd      tokKind = iota // end of the expression
	tWord                    // keyword, number, address, range or name
	tLParen                  // (
	tRParen                  // )
	tNot                     // not, !
	tAnd                     // and, &&
	tOr                      // or, ||
	tSlash                   // / before a mask length, or division
	tLBracket                // [
	tRBracket                // ]
	tColon                   // : between index and size, inside brackets
	tArith                   // an arithmetic operator: + - * % & | ^ << >>
	tRel                     // a comparison: = == != < <= > >=
)

// token is one lexical element of an expression.
type token struct {
	kind tokKind
	pos  int    // byte offset in the expression
	text string // source text
	// escaped: the word was written with a leading backslash ("\tcp"),
	// which makes it a name rather than a keyword; text omits the backslash.
	escaped bool
}

// describe names the token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tEnd:
		return "end of expression"
	case tWord:
		if t.escaped {
			return fmt.Sprintf("%q", `\`+t.text)
		}
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer splits an expression into tokens on demand, so that errors come
// out in the order they appear in the expression.
type lexer struct {
	src string
	off int
	// brackets is how deep inside "[...]" the next token is: there ':'
	// separates index and size instead of being part of an IPv6 address.
	brackets int
}

// isWordByte reports whether c can be part of a word: the characters of
// names, decimal and hex numbers, IPv4 and IPv6 addresses and port ranges.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '-'
}

// peekByte returns the next byte that is not a blank, 0 at the end.
func (lx *lexer) peekByte() byte {
	for i := lx.off; i < len(lx.src); i++ {
		if c := lx.src[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
	}
	return 0
}

// next returns the next token or a *SyntaxError for a character that
// cannot start one.
func (lx *lexer) next() (token, *SyntaxError) {
	s := lx.src
	for lx.off < len(s) && (s[lx.off] == ' ' || s[lx.off] == '\t' || s[lx.off] == '\n' || s[lx.off] == '\r') {
		lx.off++
	}
	start := lx.off
	if start == len(s) {
		return token{kind: tEnd, pos: start}, nil
	}
	tok := func(k tokKind, n int) (token, *SyntaxError) {
		lx.off += n
		return token{kind: k, pos: start, text: s[start:lx.off]}, nil
	}
	c := s[start]
	switch {
	case c == '(':
		return tok(tLParen, 1)
	case c == ')':
		return tok(tRParen, 1)
	case c == '/':
		return tok(tSlash, 1)
	case c == '[':
		return tok(tLBracket, 1)
	case c == ']':
		return tok(tRBracket, 1)
	case c == ':' && lx.brackets > 0:
		return tok(tColon, 1)
	case c == '!' && (start+1 == len(s) || s[start+1] != '='):
		return tok(tNot, 1)
	case c == '&' && start+1 < len(s) && s[start+1] == '&':
		return tok(tAnd, 2)
	case c == '|' && start+1 < len(s) && s[start+1] == '|':
		return tok(tOr, 2)
	case c == '<' && start+1 < len(s) && s[start+1] == '<', c == '>' && start+1 < len(s) && s[start+1] == '>':
		return tok(tArith, 2)
	case c == '!' || c == '<' || c == '>' || c == '=':
		if start+1 < len(s) && s[start+1] == '=' {
			return tok(tRel, 2)
		}
		return tok(tRel, 1)
	case c == '+' || c == '-' || c == '*' || c == '%' || c == '&' || c == '|' || c == '^':
		return tok(tArith, 1)
	case c == '\\':
		end := start + 1
		for end < len(s) && isWordByte(s[end]) {
			end++
		}
		if end == start+1 {
			return token{}, lx.fail(start, `"\" must be followed by a name`)
		}
		lx.off = end
		return token{kind: tWord, pos: start, text: s[start+1 : end], escaped: true}, nil
	case isWordByte(c):
		end := start
		for end < len(s) && isWordByte(s[end]) && (s[end] != ':' || lx.brackets == 0) {
			end++
		}
		lx.off = end
		t := token{kind: tWord, pos: start, text: s[start:end]}
		switch t.text {
		case "and":
			t.kind = tAnd
		case "or":
			t.kind = tOr
		case "not":
			t.kind = tNot
		}
		return t, nil
	}
	_, size := utf8.DecodeRuneInString(s[start:])
	return token{}, lx.fail(start, fmt.Sprintf("unexpected character %q", s[start:start+size]))
}

func (lx *lexer) fail(pos int, msg string) *SyntaxError {
	return &SyntaxError{Expr: lx.src, Pos: pos, Msg: msg}
}
