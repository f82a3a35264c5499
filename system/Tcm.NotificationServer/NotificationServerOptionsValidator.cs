using Tcm.Hosting.Options;
using Tcm.NotificationServer.Cluster;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer;

/// <summary>Checks <see cref="NotificationServerOptions"/> at start, with messages that name the setting and say what is wrong.</summary>
internal sealed class NotificationServerOptionsValidator()
    : TcmServerOptionsValidator<NotificationServerOptions>(NotificationServerOptions.SectionName, "the database and the CA (default 'data/ns')")
{
    protected override void Validate(NotificationServerOptions options, OptionsFailures failures)
    {
        if (string.IsNullOrWhiteSpace(options.ServerName))
        {
            failures.Add($"{failures.Prefix}ServerName must not be empty.");
        }

        if (NodeIdentity.Problem(NodeIdentity.NameOf(options)) is { } nodeProblem)
        {
            failures.Add($"{failures.Prefix}NodeName {nodeProblem}");
        }

        failures.Channel(options, 64 * 1024 * 1024);
        if (!string.IsNullOrWhiteSpace(options.Store) && PostgresStore.Problem(options.Store) is { } problem)
        {
            failures.Add($"{failures.Prefix}Store: {problem}.");
        }

        failures.Range(options.MaxQueuedPerChannel, 16, 1_000_000, nameof(NotificationServerOptions.MaxQueuedPerChannel));
    }
}
