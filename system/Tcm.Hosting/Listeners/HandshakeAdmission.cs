using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tcm.Hosting.Listeners;

/// <summary>
/// Connection middleware around the TLS handshake: a connection waits for a place in the <see cref="AdmissionGate"/> before its
/// handshake starts (Kestrel's handshake timeout runs from then on) and holds it as its <see cref="ConnectAdmission"/>: given back
/// once the handshake is done on a server that admits TLS only, or, on one that holds places through the connect (the gateway),
/// when its connect is done (<see cref="ConnectAdmission.Done"/>), its connection closes, or the hold limit passes. Given back as
/// failed when the handshake fails. A connection the gate refuses is closed before TLS: it costs the server nothing, and the agent
/// backs off with jitter.
/// </summary>
internal static class HandshakeAdmission
{
    /// <summary>Adds the wait before TLS; the outermost middleware, so a connection refused here is not counted as a failed handshake.</summary>
    public static void UseBeforeTls(ListenOptions listen, ServerAdmission admission) => listen.Use(next => async connection =>
    {
        if (await admission.Handshakes.EnterAsync(connection.ConnectionClosed).ConfigureAwait(false) != AdmissionOutcome.Admitted)
        {
            return;
        }

        var place = new ConnectAdmission(admission.Handshakes, admission.HeldConnects);
        connection.Features.Set(place);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            place.Release(ConnectAdmission.End.Failed);
        }
    });

    /// <summary>Adds the release after TLS (the handshake finished), on a server that admits TLS only.</summary>
    public static void UseAfterTls(ListenOptions listen, ServerAdmission admission) => listen.Use(next => connection =>
    {
        if (admission.HeldConnects is null)
        {
            connection.Features.Get<ConnectAdmission>()?.Release(ConnectAdmission.End.Done);
        }

        return next(connection);
    });
}
