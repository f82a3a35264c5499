using System.Text;

namespace Tcm.Testing;

/// <summary>One server-sent event: its id (null when it had none), its type (<c>message</c> when unnamed) and its data.</summary>
public sealed record ServerSentEvent(string? Id, string Event, string Data);

/// <summary>
/// A client of a server-sent event stream, as a browser's <c>EventSource</c> reads it: fields <c>id</c>, <c>event</c>, <c>data</c>,
/// an event ends at a blank line; comment lines (<c>:</c>) are counted in <see cref="Comments"/>.
/// </summary>
public sealed class ServerSentEventReader : IAsyncDisposable
{
    /// <summary>How long <see cref="ReadAsync"/> waits for an event unless told.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(15);

    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private ServerSentEventReader(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    /// <summary>The answer's headers (content type, cache control).</summary>
    public HttpResponseMessage Response => _response;

    /// <summary>Comment lines read so far (the server's heartbeats).</summary>
    public int Comments { get; private set; }

    /// <summary>Opens <paramref name="path"/> with <paramref name="client"/>, sending <c>Last-Event-ID</c> when given; throws unless the answer is 200.</summary>
    public static async Task<ServerSentEventReader> OpenAsync(HttpClient client, string path, string? lastEventId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            response.EnsureSuccessStatusCode();
            return new ServerSentEventReader(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The next event; <see cref="TimeoutException"/> when none comes within <paramref name="deadline"/> (<see cref="DefaultDeadline"/>).</summary>
    public async Task<ServerSentEvent> ReadAsync(TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? DefaultDeadline);
        string? id = null;
        var kind = "message";
        var data = new StringBuilder();
        var fields = 0;
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(timeout.Token).ConfigureAwait(false)
                    ?? throw new EndOfStreamException("The server ended the event stream.");
                if (line.Length == 0)
                {
                    if (fields > 0 && data.Length > 0)
                    {
                        return new ServerSentEvent(id, kind, data.ToString());
                    }

                    fields = 0;
                    continue;
                }

                if (line[0] == ':')
                {
                    Comments++;
                    continue;
                }

                fields++;
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var name = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
                switch (name)
                {
                    case "id":
                        id = value;
                        break;
                    case "event":
                        kind = value;
                        break;
                    case "data":
                        data.Append(data.Length > 0 ? "\n" : "").Append(value);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"No server-sent event within {(deadline ?? DefaultDeadline).TotalSeconds} s.");
        }
    }

    /// <summary>Reads events until <paramref name="done"/> holds for the list so far; returns them all.</summary>
    public async Task<List<ServerSentEvent>> ReadUntilAsync(Func<IReadOnlyList<ServerSentEvent>, bool> done, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(done);
        var events = new List<ServerSentEvent>();
        while (!done(events))
        {
            events.Add(await ReadAsync(deadline).ConfigureAwait(false));
        }

        return events;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
