namespace Tcm.Lab;

/// <summary>What a scenario or a feature does to one of the lab's servers (<see cref="ISystemUnderTest.ControlAsync"/>).</summary>
public enum ServerOperation
{
    /// <summary><c>stop-server</c>: graceful shutdown (connections closed with a close frame).</summary>
    Stop,
    /// <summary><c>start-server</c>: start it again on the same address.</summary>
    Start,
    /// <summary><c>kill-server</c>: the process dies (sockets reset, nothing flushed).</summary>
    Kill,
    /// <summary><c>refuse-credentials</c>, the proxy only: it answers every CONNECT 407 (its password changed).</summary>
    RefuseCredentials,
    /// <summary><c>accept-credentials</c>, the proxy only: the agents' credentials are accepted again.</summary>
    AcceptCredentials,
}
