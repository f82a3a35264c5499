using System.Security.Cryptography.X509Certificates;

namespace Tcm.LoadTests.Baseline.Server;

/// <summary><c>serve-baseline</c>: runs <see cref="BaselineServer"/> in this process until standard input closes.</summary>
internal static class ServeBaselineCommand
{
    /// <summary>Runs the server; prints <c>READY port=P pid=N</c> once listening.</summary>
    public static async Task<int> RunAsync(int port, string pfxPath, bool waitForStdinClose, CancellationToken cancellationToken)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, null);
        await using var server = new BaselineServer(certificate, port);
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        Console.Out.WriteLine($"{BaselineServerProcess.ReadyPrefix}{server.Port} pid={Environment.ProcessId}");
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

        return 0;
    }
}
