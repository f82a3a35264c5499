using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tcm.Hosting.Listeners;

/// <summary>
/// Connection middleware around the TLS handshake: a connection waits for a place in the <see cref="AdmissionGate"/> before its
/// handshake starts (Kestrel's handshake timeout runs from then on) and gives it back once the handshake is done, or failed. A
/// connection the gate refuses is closed before TLS: it costs the server nothing, and the agent backs off with jitter.
/// </summary>
internal static class HandshakeAdmission
{
    /// <summary>Adds the wait before TLS; the outermost middleware, so a connection refused here is not counted as a failed handshake.</summary>
    public static void UseBeforeTls(ListenOptions listen, AdmissionGate gate) => listen.Use(next => async connection =>
    {
        if (await gate.EnterAsync(connection.ConnectionClosed).ConfigureAwait(false) != AdmissionOutcome.Admitted)
        {
            return;
        }

        var place = new Place(gate);
        connection.Features.Set(place);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            place.Release(finished: false);
        }
    });

    /// <summary>Adds the release after TLS: the handshake finished.</summary>
    public static void UseAfterTls(ListenOptions listen) => listen.Use(next => connection =>
    {
        connection.Features.Get<Place>()?.Release(finished: true);
        return next(connection);
    });

    /// <summary>A connection's place in the gate, given back once.</summary>
    private sealed class Place(AdmissionGate gate)
    {
        private int _released;

        public void Release(bool finished)
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Exit(finished);
            }
        }
    }
}
