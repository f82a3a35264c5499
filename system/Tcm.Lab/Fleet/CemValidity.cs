namespace Tcm.Lab.Fleet;

/// <summary>The CEM settings an agent's install package carries.</summary>
public enum CemValidity
{
    /// <summary>CEM settings present and valid (the default).</summary>
    Valid,
    /// <summary>No CEM settings.</summary>
    Missing,
    /// <summary>CEM settings present but wrong (e.g. a gateway address nobody listens on).</summary>
    Invalid,
    /// <summary>CEM settings whose gateway address has a port the gateway does not listen on (443 against 4726): valid to the agent, refused on the wire.</summary>
    WrongPort,
}
