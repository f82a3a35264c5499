using System.Security.Cryptography;
using System.Text.Json;
using Tcm.Protocol;

namespace Tcm.LoadTests.TcmVariant.Server;

/// <summary>A Notification Server this run started in its own process, with what agents and admin clients need from its data folder.</summary>
internal sealed record StartedNotificationServer(TcmHostProcess Process, Uri Address, string CaPemPath, string CaPem, InstallPackage Package)
{
    /// <summary>A fresh random admin key (for the server or its gateway).</summary>
    public static string NewAdminKey() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24));

    /// <summary>Starts <c>tcm ns</c> on a free port with its data in <paramref name="dataFolder"/>; reads its CA and install package once it listens.</summary>
    public static async Task<StartedNotificationServer> StartAsync(string dataFolder, string adminKey, TextWriter log, CancellationToken cancellationToken)
    {
        var process = TcmHostProcess.NotificationServer(dataFolder, adminKey, log);
        try
        {
            await process.StartAsync(0, cancellationToken).ConfigureAwait(false);
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
