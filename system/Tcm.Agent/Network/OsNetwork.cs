using System.Net;
using System.Net.NetworkInformation;
using Tcm.Protocol;

namespace Tcm.Agent.Network;

/// <summary>The real network: TCP sockets (no Nagle delay) and the operating system's adapters.</summary>
public sealed class OsNetwork : INetwork
{
    private readonly Lock _gate = new();
    private EventHandler? _adaptersChanged;

    /// <inheritdoc/>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken) =>
        await TcpDial.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public IReadOnlyList<NetworkAdapter> GetAdapters()
    {
        var adapters = new List<NetworkAdapter>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            var addresses = new List<string>();
            try
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    addresses.Add(unicast.Address.ToString());
                }
            }
            catch (NetworkInformationException)
            {
                // An adapter that vanishes while being read is still listed, without addresses.
            }

            adapters.Add(new NetworkAdapter(nic.Name, nic.Description, nic.OperationalStatus == OperationalStatus.Up, addresses));
        }

        return adapters;
    }

    /// <inheritdoc/>
    public event EventHandler? AdaptersChanged
    {
        add
        {
            lock (_gate)
            {
                // Subscribe to the OS only while someone listens: NetworkChange holds its subscribers for the process lifetime.
                if (_adaptersChanged is null)
                {
                    NetworkChange.NetworkAddressChanged += OnNetworkChanged;
                    NetworkChange.NetworkAvailabilityChanged += OnNetworkAvailabilityChanged;
                }

                _adaptersChanged += value;
            }
        }
        remove
        {
            lock (_gate)
            {
                _adaptersChanged -= value;
                if (_adaptersChanged is null)
                {
                    NetworkChange.NetworkAddressChanged -= OnNetworkChanged;
                    NetworkChange.NetworkAvailabilityChanged -= OnNetworkAvailabilityChanged;
                }
            }
        }
    }

    private void OnNetworkChanged(object? sender, EventArgs e) => _adaptersChanged?.Invoke(this, EventArgs.Empty);

    private void OnNetworkAvailabilityChanged(object? sender, NetworkAvailabilityEventArgs e) => _adaptersChanged?.Invoke(this, EventArgs.Empty);
}
