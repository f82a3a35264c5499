using Tcm.Hosting.Options;

namespace Tcm.NotificationServer;

/// <summary>Checks <see cref="NotificationServerOptions"/> at start, with messages that name the setting and say what is wrong.</summary>
internal sealed class NotificationServerOptionsValidator()
    : TcmServerOptionsValidator<NotificationServerOptions>(NotificationServerOptions.SectionName, "the database and the CA (default 'data/ns')")
{
    protected override void Validate(NotificationServerOptions options, OptionsFailures failures)
    {
        failures.HostName(options.PublicHostName, nameof(NotificationServerOptions.PublicHostName));
        if (string.IsNullOrWhiteSpace(options.ServerName))
        {
            failures.Add($"{failures.Prefix}ServerName must not be empty.");
        }

        failures.Range(options.MaxMessageBytes, 4096, 64 * 1024 * 1024, nameof(NotificationServerOptions.MaxMessageBytes));
        failures.Between(options.HelloTimeout, TimeSpan.FromMinutes(5), nameof(NotificationServerOptions.HelloTimeout));
        failures.NotNegative(options.KeepAliveInterval, nameof(NotificationServerOptions.KeepAliveInterval), "zero disables pings");
        failures.NotNegative(options.KeepAliveTimeout, nameof(NotificationServerOptions.KeepAliveTimeout));
        failures.Range(options.MaxPushesInFlight, 1, 10_000_000, nameof(NotificationServerOptions.MaxPushesInFlight));
        failures.Range(options.MaxQueuedPerChannel, 16, 1_000_000, nameof(NotificationServerOptions.MaxQueuedPerChannel));
    }
}
