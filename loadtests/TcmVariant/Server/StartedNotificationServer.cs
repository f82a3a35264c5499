using System.Security.Cryptography;
using System.Text.Json;
using Tcm.Protocol;

namespace Tcm.LoadTests.TcmVariant.Server;

/// <summary>A Notification Server this run started in its own process, with what agents and admin clients need from its data folder.</summary>
internal sealed record StartedNotificationServer(TcmHostProcess Process, Uri Address, string CaPemPath, string CaPem, InstallPackage Package)
{
    /// <summary>A fresh random admin key (for the server or its gateway).</summary>
    public static string NewAdminKey() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24));

    /// <summary>
    /// Starts <c>tcm ns</c> on <paramref name="port"/> (0: a free one) with its data in <paramref name="dataFolder"/> (and, for one node
    /// of several, <paramref name="node"/>'s store and name); reads its CA and install package once it listens.
    /// </summary>
    public static async Task<StartedNotificationServer> StartAsync(
        string dataFolder, string adminKey, TextWriter log, CancellationToken cancellationToken, (string Store, string Name)? node = null, int port = 0)
    {
        var process = TcmHostProcess.NotificationServer(dataFolder, adminKey, log, node);
        try
        {
            await process.StartAsync(port, cancellationToken).ConfigureAwait(false);
            var caPath = Path.Combine(dataFolder, "ca.pem");
            var package = JsonSerializer.Deserialize(
                await File.ReadAllTextAsync(Path.Combine(dataFolder, "agent-package.json"), cancellationToken).ConfigureAwait(false),
                ProtocolJsonContext.Default.InstallPackage) ?? throw new InvalidOperationException("The Notification Server wrote no install package.");
            return new StartedNotificationServer(
                process, new Uri($"https://127.0.0.1:{process.Port}"), caPath, await File.ReadAllTextAsync(caPath, cancellationToken).ConfigureAwait(false), package);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
