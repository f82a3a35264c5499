using Tcm.Agent.State;

namespace Tcm.Agent.Tests;

internal static class TestData
{
    public static TaskPushMessage Task(long seq, string taskId, string command = "echo", IReadOnlyDictionary<string, string>? parameters = null, int timeoutSeconds = 300) =>
        new() { Seq = seq, TaskId = taskId, Command = command, Parameters = parameters, TimeoutSeconds = timeoutSeconds };

    public static PolicyDocument Policy(string etag = "0123456789abcdef", bool tcm = true, bool persistent = true, params string[] hosts) => new()
    {
        Etag = etag,
        AgentId = "a1",
        TcmEnabled = tcm,
        Communication = new CommunicationSettings { ServerHosts = hosts, PersistentConnection = persistent, ProfileName = "Default" },
        Settings = new AgentSettings { PolicyRefreshSeconds = 120, TaskPollSeconds = 60 },
    };

    public static TaskResultMessage Result(string taskId, TaskState state = TaskState.Succeeded) =>
        new() { TaskId = taskId, IdempotencyKey = $"a1:{taskId}", State = state, Output = "out", ExitCode = 0 };

    public static AgentState State() => new()
    {
        AgentId = "a1",
        ClientCertificatePem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        PrivateKeyPem = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
        CaCertificatePem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----",
    };
}
