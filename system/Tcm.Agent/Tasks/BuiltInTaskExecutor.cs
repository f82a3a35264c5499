using System.Globalization;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Tcm.Protocol;

namespace Tcm.Agent.Tasks;

/// <summary>
/// The real agent's executor: <c>echo</c> (output = parameter <c>text</c>), <c>sleep</c> (parameter <c>seconds</c>),
/// <c>inventory</c> (basic inventory as JSON). Any other command fails with an output that says what this agent runs.
/// </summary>
public sealed class BuiltInTaskExecutor : ITaskExecutor
{
    /// <summary>The commands this executor knows.</summary>
    public static IReadOnlyList<string> Commands { get; } = ["echo", "sleep", "inventory"];

    private readonly TimeProvider _time;
    private readonly string? _computerName;

    /// <param name="time">Clock for <c>sleep</c> and inventory timestamps; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="computerName">Name reported by inventory; <see cref="Environment.MachineName"/> when null.</param>
    public BuiltInTaskExecutor(TimeProvider? time = null, string? computerName = null)
    {
        _time = time ?? TimeProvider.System;
        _computerName = computerName;
    }

    /// <inheritdoc/>
    public async ValueTask<TaskOutcome> ExecuteAsync(TaskPushMessage task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        switch (task.Command.ToLowerInvariant())
        {
            case "echo":
                return new TaskOutcome(true, 0, GetParameter(task, "text") ?? "");

            case "sleep":
                var text = GetParameter(task, "seconds");
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || seconds > int.MaxValue / 1000)
                {
                    return new TaskOutcome(false, 2, $"sleep needs parameter 'seconds' as a non-negative number, got '{text}'");
                }

                await Task.Delay(TimeSpan.FromSeconds(seconds), _time, cancellationToken).ConfigureAwait(false);
                return new TaskOutcome(true, 0, $"slept {seconds.ToString(CultureInfo.InvariantCulture)} s");

            case "inventory":
                var inventory = await CollectInventoryAsync(null, cancellationToken).ConfigureAwait(false);
                return new TaskOutcome(true, 0, JsonSerializer.Serialize(inventory, ProtocolJsonContext.Default.BasicInventory));

            default:
                return new TaskOutcome(false, 1, $"unknown command '{task.Command}'; this agent runs: {string.Join(", ", Commands)}");
        }
    }

    /// <inheritdoc/>
    public ValueTask<BasicInventory> CollectInventoryAsync(IReadOnlyList<string>? classes, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var inventory = new BasicInventory
        {
            ComputerName = _computerName ?? Environment.MachineName,
            Domain = Environment.UserDomainName,
            OsName = RuntimeInformation.OSDescription,
            OsVersion = Environment.OSVersion.VersionString,
            ProcessorCount = Environment.ProcessorCount,
            MemoryBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
            IpAddresses = GetAddresses(),
            LoggedOnUser = Environment.UserName,
            CollectedAt = _time.GetUtcNow(),
        };
        return ValueTask.FromResult(inventory);
    }

    private static string? GetParameter(TaskPushMessage task, string name) =>
        task.Parameters is { } p && p.TryGetValue(name, out var value) ? value : null;

    private static List<string> GetAddresses()
    {
        var result = new List<string>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (var address in nic.GetIPProperties().UnicastAddresses)
                {
                    if (address.Address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                    {
                        result.Add(address.Address.ToString());
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Inventory is best effort: a machine whose adapters cannot be read still reports the rest.
        }

        return result;
    }
}
