package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/utils/ioutil"
)

// go-git's file, ssh and git transports do not honour the context
// everywhere: the ssh handshake and the opening of its session, the TCP
// connect of git://, and waiting for a local git-upload-pack (and whatever
// still holds its pipes) to exit have no deadline. drover replaces them
// with streamTransport, which speaks the same protocol over a stream whose
// whole life is bound to the context of the operation: when the context is
// done the stream is aborted (the connection closed, the process group
// killed), so every read, write and wait returns. http(s) stays with
// go-git, whose requests carry the context.
func init() {
	client.InstallProtocol("file", streamTransport{openLocal})
	client.InstallProtocol("ssh", streamTransport{openSSH})
	client.InstallProtocol("git", streamTransport{openGitProto})
}

// stream is one git-upload-pack conversation: its input and output, what
// it said on stderr, and how it ends.
type stream struct {
	in  io.WriteCloser
	out io.Reader
	// stderr returns what the server wrote on its error stream, at most
	// stderrMax bytes; valid after close.
	stderr func() string
	// close ends the conversation and waits for it to be over (the
	// session calls it once); abort (called from any goroutine, also
	// during close) cuts it short.
	close func() error
	abort func()
}

// opener starts git-upload-pack for ep. The stream must be aborted when ctx
// is done, including while opening.
type opener func(ctx context.Context, ep *transport.Endpoint, auth transport.AuthMethod) (*stream, error)

// streamTransport is a go-git transport that runs the pack protocol over
// the streams of one opener. It only fetches.
type streamTransport struct{ open opener }

func (t streamTransport) NewUploadPackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.UploadPackSession, error) {
	return &session{open: t.open, ep: ep, auth: auth}, nil
}

func (t streamTransport) NewReceivePackSession(*transport.Endpoint, transport.AuthMethod) (transport.ReceivePackSession, error) {
	return nil, errors.New("drover does not push")
}

// session is the client side of git-upload-pack, after go-git's
// transport/internal/common. The stream is opened by the first call that
// has a context, and every context the session is given aborts it when
// done, until Close returns.
type session struct {
	open opener
	ep   *transport.Endpoint
	auth transport.AuthMethod

	st       *stream
	stops    []func() bool
	advRefs  *packp.AdvRefs
	packRun  bool
	finished bool
	ended    bool // st.close was called
	closed   bool
}

// start opens the stream if needed and ties it to ctx.
func (s *session) start(ctx context.Context) error {
	if s.closed {
		return errors.New("session closed")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.st == nil {
		st, err := s.open(ctx, s.ep, s.auth)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		s.st = st
	}
	s.stops = append(s.stops, context.AfterFunc(ctx, s.st.abort))
	return nil
}

func (s *session) AdvertisedReferences() (*packp.AdvRefs, error) {
	return s.AdvertisedReferencesContext(context.Background())
}

func (s *session) AdvertisedReferencesContext(ctx context.Context) (*packp.AdvRefs, error) {
	if s.advRefs != nil {
		return s.advRefs, nil
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	ar := packp.NewAdvRefs()
	if err := ar.Decode(s.st.out); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.advRefsError(err)
	}
	if ar.IsEmpty() {
		return nil, transport.ErrEmptyRemoteRepository
	}
	transport.FilterUnsupportedCapabilities(ar.Capabilities)
	s.advRefs = ar
	return ar, nil
}

// advRefsError explains a failure to read the advertised references; it
// is never nil.
func (s *session) advRefsError(err error) error {
	var errLine *pktline.ErrorLine
	var unexpected *packp.ErrUnexpectedData
	switch {
	case errors.As(err, &errLine):
		if isRepoNotFound(errLine.Text) {
			return transport.ErrRepositoryNotFound
		}
		return errLine
	case errors.Is(err, packp.ErrEmptyAdvRefs):
		_ = s.finish()
		return transport.ErrEmptyRemoteRepository
	case errors.Is(err, packp.ErrEmptyInput):
		// The server said nothing on stdout; it gives the reason on
		// stderr, complete once the stream has ended.
		s.finished = true
		_ = s.end()
		msg := firstLine(s.st.stderr())
		if isRepoNotFound(msg) {
			return transport.ErrRepositoryNotFound
		}
		if msg != "" {
			return fmt.Errorf("git-upload-pack said %q: %w", msg, io.ErrUnexpectedEOF)
		}
		return io.ErrUnexpectedEOF
	case errors.As(err, &unexpected) && isRepoNotFound(string(unexpected.Data)):
		return transport.ErrRepositoryNotFound
	}
	return err
}

// UploadPack sends the wants and haves and returns the server's answer,
// whose pack is read from the stream; closing it closes the session.
func (s *session) UploadPack(ctx context.Context, req *packp.UploadPackRequest) (*packp.UploadPackResponse, error) {
	if req.IsEmpty() {
		if err := s.finish(); err != nil {
			return nil, err
		}
		return nil, transport.ErrEmptyUploadPackRequest
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.AdvertisedReferencesContext(ctx); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	s.packRun = true
	if err := sendRequest(s.st.in, req); err != nil {
		return nil, s.ctxErr(ctx, err)
	}
	r, err := ioutil.NonEmptyReader(s.st.out)
	if errors.Is(err, ioutil.ErrEmptyReader) {
		return nil, transport.ErrEmptyUploadPackRequest
	}
	if err != nil {
		return nil, s.ctxErr(ctx, err)
	}
	res := packp.NewUploadPackResponse(req)
	if err := res.Decode(ioutil.NewReadCloser(r, s)); err != nil {
		return nil, s.ctxErr(ctx, fmt.Errorf("decoding upload-pack response: %w", err))
	}
	return res, nil
}

// sendRequest writes the upload-pack request and ends the input.
func sendRequest(w io.WriteCloser, req *packp.UploadPackRequest) error {
	if err := req.UploadRequest.Encode(w); err != nil {
		return fmt.Errorf("sending wants: %w", err)
	}
	if err := req.UploadHaves.Encode(w, true); err != nil {
		return fmt.Errorf("sending haves: %w", err)
	}
	if err := pktline.NewEncoder(w).Encodef("done\n"); err != nil {
		return fmt.Errorf("sending done: %w", err)
	}
	return w.Close()
}

// ctxErr prefers the context's error: an aborted stream fails with
// "closed pipe" or "use of closed network connection", which says nothing.
func (s *session) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// finish tells a server that was sent no request that we are done.
func (s *session) finish() error {
	if s.finished || s.st == nil {
		return nil
	}
	s.finished = true
	if s.packRun {
		return nil
	}
	_, err := s.st.in.Write(pktline.FlushPkt)
	return err
}

// Close ends the conversation. The contexts the session was given still
// abort it while it waits.
func (s *session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.st == nil {
		return nil
	}
	err := s.finish()
	if cerr := s.end(); err == nil {
		err = cerr
	}
	for _, stop := range s.stops {
		stop()
	}
	return err
}

// end closes the stream once.
func (s *session) end() error {
	if s.ended {
		return nil
	}
	s.ended = true
	return s.st.close()
}

var repoNotFound = []string{
	"Repository not found.",
	"repository does not exist.",
	"does not appear to be a git repository",
	"no such repository",
	"access denied",
	"Repository does not exist or you do not have access",
	"The project you were looking for could not be found",
}

func isRepoNotFound(s string) bool {
	for _, m := range repoNotFound {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && l != "remote:" {
			return l
		}
	}
	return ""
}

// stderrMax bounds what is kept of a server's error stream.
const stderrMax = 4096

// capWriter keeps the first stderrMax bytes written to it.
type capWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := stderrMax - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (w *capWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

var _ transport.Transport = streamTransport{}
var _ transport.UploadPackSession = (*session)(nil)
