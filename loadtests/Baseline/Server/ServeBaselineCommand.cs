using System.Security.Cryptography.X509Certificates;
using Tcm.LoadTests.Baseline.Relay;

namespace Tcm.LoadTests.Baseline.Server;

/// <summary>
/// <c>serve-baseline</c>: runs <see cref="BaselineServer"/> in this process until standard input closes; <c>serve-relay</c>: runs
/// <see cref="BareRelay"/> the same way.
/// </summary>
internal static class ServeBaselineCommand
{
    /// <summary>Runs the server; prints <c>READY port=P pid=N</c> once listening.</summary>
    public static async Task<int> RunAsync(int port, string pfxPath, bool waitForStdinClose, CancellationToken cancellationToken)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, null);
        await using var server = new BaselineServer(certificate, port);
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        await ServeAsync(server.Port, waitForStdinClose, cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Runs the bare relay to <paramref name="upstream"/> (a bare server whose certificate the CA in <paramref name="caPemPath"/> signed); prints <c>READY port=P pid=N</c> once listening.</summary>
    public static async Task<int> RunRelayAsync(int port, string pfxPath, Uri upstream, string caPemPath, bool waitForStdinClose, CancellationToken cancellationToken)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, null);
        using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(caPemPath, cancellationToken).ConfigureAwait(false));
        await using var relay = new BareRelay(certificate, port, upstream, BaselineCertificates.Validator(ca));
        await relay.StartAsync(cancellationToken).ConfigureAwait(false);
        await ServeAsync(relay.Port, waitForStdinClose, cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Says the child listens on <paramref name="port"/>, then waits until standard input closes (or, in the foreground, until cancelled).</summary>
    private static async Task ServeAsync(int port, bool waitForStdinClose, CancellationToken cancellationToken)
    {
        Console.Out.WriteLine($"{BaselineServerProcess.ReadyPrefix}{port} pid={Environment.ProcessId}");
        Console.Out.Flush();
        if (waitForStdinClose)
        {
            // The parent holds our stdin; when it exits (or closes it) we stop.
            var stdinClosed = Task.Run(() =>
            {
                while (Console.In.ReadLine() is not null)
                {
                }
            }, CancellationToken.None);
            await Task.WhenAny(stdinClosed, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
        }
        else
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }
}
