namespace Tcm.NotificationServer.Waves;

/// <summary>Registers what sends actions in waves: the pushes of each action kind and the one scheduler, started with the server.</summary>
internal static class WaveServices
{
    public static IServiceCollection AddWaves(this IServiceCollection services)
    {
        services.AddSingleton<ActionPushes>();
        services.AddSingleton(WaveLease.Default);
        services.AddSingleton<WaveDrivers>();
        services.AddSingleton<WaveScheduler>();
        services.AddHostedService(static sp => sp.GetRequiredService<WaveScheduler>());
        return services;
    }
}
