using System.Net;
using Tcm.Channels.Framing;

namespace Tcm.Agent.Connection;

/// <summary>
/// The handler one channel's <see cref="System.Net.WebSockets.ClientWebSocket"/> connects through (over the agent's own
/// <see cref="AgentTransport.ChannelInvoker"/>): when the upgrade succeeds (HTTP/1.1 101, or HTTP/2's extended CONNECT answered 2xx) it
/// hands the WebSocket the upgraded stream wrapped by <paramref name="wrap"/>, so that the agent's keep-alive can write its pings
/// between the WebSocket's frames. The upgrade request announces <paramref name="keepAlive"/>. Anything else (refusals, errors) is
/// returned untouched. One per connect attempt.
/// </summary>
internal sealed class UpgradeCapture(HttpMessageInvoker inner, ChannelKeepAlive keepAlive, Func<Stream, PingedStream> wrap) : HttpMessageHandler
{
    /// <summary>The wrapped stream of the upgrade, once it succeeded.</summary>
    public PingedStream? Stream { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // why: announced here rather than in the WebSocket's options, which would keep a header collection as long as the channel.
        keepAlive.AnnounceTo(request.Headers);
        var response = await inner.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var upgraded = response.StatusCode == HttpStatusCode.SwitchingProtocols
            || (request.Method == HttpMethod.Connect && response.IsSuccessStatusCode);
        if (upgraded && response.Content is { } content)
        {
            // why: an upgraded connection's stream is there at once; read synchronously, the content keeps the stream itself rather than
            // a task of it (as the WebSocket reads it too: one object less per channel, for thousands of simulated agents).
            var stream = content.ReadAsStream(cancellationToken);
            Stream = wrap(stream);
            response.Content = new UpgradedContent(content, Stream);
        }

        return response;
    }

    /// <summary>The upgrade's content with the wrapped stream as its body; disposing it disposes both.</summary>
    private sealed class UpgradedContent : HttpContent
    {
        private readonly HttpContent _original;
        private readonly Stream _stream;

        public UpgradedContent(HttpContent original, Stream stream)
        {
            _original = original;
            _stream = stream;
            foreach (var (name, values) in original.Headers)
            {
                Headers.TryAddWithoutValidation(name, values);
            }
        }

        protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => _stream;

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult(_stream);

        protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) => Task.FromResult(_stream);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            throw new NotSupportedException("an upgraded connection's stream is read, not copied");

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // A WebSocket that failed after the upgrade (a header it did not accept) drops the response: the pings end too.
                _stream.Dispose();
                _original.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
