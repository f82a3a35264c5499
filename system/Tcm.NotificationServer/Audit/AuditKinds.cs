namespace Tcm.NotificationServer.Audit;

/// <summary>
/// The kinds of change the audit trail records (<c>GET /tcm/admin/audit?kind=</c>). An admin endpoint names its kind with
/// <c>WithAdminAccess(role, AuditKinds.X)</c>; one that names none is recorded under the first segment of its path.
/// </summary>
internal static class AuditKinds
{
    /// <summary><c>PUT /settings</c>: the server settings ("TCM communication").</summary>
    public const string Settings = "settings";

    /// <summary>Communication profiles: create, replace, delete.</summary>
    public const string Profile = "profile";

    /// <summary>Targeted agent settings: create, replace, delete.</summary>
    public const string AgentSettings = "agent-settings";

    /// <summary>An install package built from a profile (it carries a new registration token).</summary>
    public const string InstallPackage = "install-package";

    /// <summary>An action: a task, a policy push, on-demand inventory, a task through the Task Servers.</summary>
    public const string Action = "action";

    /// <summary>An agent's persistent connection terminated.</summary>
    public const string Terminate = "terminate";

    /// <summary>A certificate a gateway holds approved, or a certificate blocked on a gateway.</summary>
    public const string Certificate = "certificate";

    /// <summary>A site server (gateway or Task Server) allowed to register, and how agents choose their Task Server.</summary>
    public const string SiteServer = "site-server";

    /// <summary>An admin key added or revoked.</summary>
    public const string Key = "key";
}
