using System.Net;

namespace AuditAgent.Graph;

/// <summary>Graph did not send a whole response in time: retried like any other timeout, never reported as a stop.</summary>
public sealed class GraphTimeoutException(string message, Exception? inner = null) : TimeoutException(message, inner);

/// <summary>Graph asked the agent to wait longer than Graph:MaxRetryAfterSeconds: the request fails instead of waiting.</summary>
public sealed class GraphThrottledException(string message) : ExplainedException(message);

/// <summary>One response held more than Graph:MaxResponseMegabytes: read no further, fail that mailbox.</summary>
public sealed class GraphResponseTooLargeException(string message) : ExplainedException(message);

/// <summary>
/// Gives each request one deadline that covers the whole response, body included. HttpClient.Timeout
/// stops at the headers when the SDK reads responses as streams, so a Graph that sends the headers and
/// "{"value":[" and then nothing (or a byte now and then) would otherwise hold a scan forever.
/// Sits innermost, under the SDK's retry handler: every attempt gets its own deadline. It also caps what
/// one response may hold, so a huge page fails its mailbox instead of filling memory.
/// </summary>
internal sealed class ResponseDeadlineHandler(TimeSpan timeout, long maxBytes) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, deadline.Token);
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            deadline.Dispose();
            throw TimedOut(ex);
        }
        catch
        {
            deadline.Dispose();
            throw;
        }

        if (response.Content.Headers.ContentLength > maxBytes)
        {
            response.Dispose();
            deadline.Dispose();
            throw TooLarge(maxBytes);
        }

        response.Content = new DeadlineContent(response.Content, deadline, timeout, maxBytes, cancellationToken);
        return response;
    }

    private static GraphTimeoutException TimedOut(TimeSpan timeout, Exception? inner = null) =>
        new($"Graph did not send the whole response within {timeout.TotalSeconds:0.#} s (Graph:TimeoutSeconds)", inner);

    private GraphTimeoutException TimedOut(Exception inner) => TimedOut(timeout, inner);

    private static GraphResponseTooLargeException TooLarge(long maxBytes) =>
        new($"Graph sent a response larger than {maxBytes / (1024 * 1024)} MB (Graph:MaxResponseMegabytes); lower Graph:PageSize or raise the limit");

    /// <summary>The response body, read under the request's deadline; the deadline ends with the response.</summary>
    private sealed class DeadlineContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly CancellationTokenSource _deadline;
        private readonly CancellationToken _caller;
        private readonly TimeSpan _timeout;
        private readonly long _maxBytes;

        public DeadlineContent(HttpContent inner, CancellationTokenSource deadline, TimeSpan timeout, long maxBytes, CancellationToken caller)
        {
            (_inner, _deadline, _caller, _timeout, _maxBytes) = (inner, deadline, caller, timeout, maxBytes);
            // As received: enumerating the headers themselves would parse every value (Content-Type and its
            // parameters) only to write it back as text.
            foreach (var header in inner.Headers.NonValidated)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new DeadlineStream(await _inner.ReadAsStreamAsync(_deadline.Token), this);

        protected override Stream CreateContentReadStream(CancellationToken cancellationToken) =>
            new DeadlineStream(_inner.ReadAsStream(_deadline.Token), this);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await using var source = await CreateContentReadStreamAsync(CancellationToken.None);
            await source.CopyToAsync(stream);
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await using var source = await CreateContentReadStreamAsync(cancellationToken);
            await source.CopyToAsync(stream, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _inner.Headers.ContentLength ?? 0;
            return _inner.Headers.ContentLength is not null;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                _deadline.Dispose();
            }

            base.Dispose(disposing);
        }

        private sealed class DeadlineStream(Stream inner, DeadlineContent owner) : Stream
        {
            private long _read;
            private CancellationTokenSource? _linked;
            private CancellationToken _linkedFor;

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                int read;
                try
                {
                    read = await inner.ReadAsync(buffer, Linked(cancellationToken));
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException
                    && owner._deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !owner._caller.IsCancellationRequested)
                {
                    throw TimedOut(owner._timeout, ex);
                }

                _read += read;
                return _read > owner._maxBytes ? throw TooLarge(owner._maxBytes) : read;
            }

            /// <summary>
            /// The caller's token joined with the deadline; a body is read with one token, so the two are joined once per
            /// body rather than once per read.
            /// </summary>
            private CancellationToken Linked(CancellationToken cancellationToken)
            {
                if (!cancellationToken.CanBeCanceled)
                {
                    return owner._deadline.Token;
                }

                if (_linked is null || _linkedFor != cancellationToken)
                {
                    _linked?.Dispose();
                    _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, owner._deadline.Token);
                    _linkedFor = cancellationToken;
                }

                return _linked.Token;
            }

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            // Synchronous reads cannot take the token: they wait for the deadline's own check.
            public override int Read(byte[] buffer, int offset, int count) =>
                ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    inner.Dispose();
                    _linked?.Dispose();
                }

                base.Dispose(disposing);
            }
        }
    }
}
