namespace Tcm.NotificationServer.SiteServers;

/// <summary>Registers the site-server services of the NS.</summary>
internal static class SiteServerServices
{
    public static IServiceCollection AddSiteServers(this IServiceCollection services)
    {
        services.AddSingleton<SiteServerCertificates>();
        services.AddSingleton<SiteServerDirectory>();
        services.AddSingleton<SiteServerAuthenticator>();
        return services;
    }
}
