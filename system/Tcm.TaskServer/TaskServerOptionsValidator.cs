using Tcm.Hosting.Options;

namespace Tcm.TaskServer;

/// <summary>Checks <see cref="TaskServerOptions"/> at start, with messages that name the setting and say what is wrong.</summary>
internal sealed class TaskServerOptionsValidator()
    : TcmServerOptionsValidator<TaskServerOptions>(TaskServerOptions.SectionName, "the store and the identity from registration (default 'data/ts')")
{
    protected override void Validate(TaskServerOptions options, OptionsFailures failures)
    {
        failures.Port(options.SecondPort, nameof(TaskServerOptions.SecondPort));
        var nodes = options.NotificationServerNodes();
        if (nodes.Count == 0 || nodes.Contains(null))
        {
            failures.Add($"{failures.Prefix}NotificationServerUrl must be the NS's https:// URL (several nodes of one NS: their URLs separated by commas)");
        }

        failures.Range(options.MaxAgents, 1, 1_000_000, nameof(TaskServerOptions.MaxAgents));
        failures.Channel(options, 16 * 1024 * 1024);
        failures.Positive(options.WorkPollWait, nameof(TaskServerOptions.WorkPollWait));
        failures.Positive(options.NotificationServerRetryMax, nameof(TaskServerOptions.NotificationServerRetryMax));
    }
}
