namespace Tcm.LoadTests.Harness.Load;

/// <summary>
/// One phase of a scenario's load, as in NBomber. Closed-model phases keep a number of copies of the scenario running
/// (each copy runs iterations one after another: a held connection); open-model phases start iterations at an arrival
/// rate whether or not earlier ones have finished.
/// </summary>
internal abstract record LoadSimulation
{
    private protected LoadSimulation()
    {
    }

    /// <summary>Closed model: keep <paramref name="Copies"/> copies running for <paramref name="During"/>.</summary>
    internal sealed record KeepConstant(int Copies, TimeSpan During) : LoadSimulation;

    /// <summary>Closed model: ramp linearly from the previous phase's copies to <paramref name="Copies"/> over <paramref name="During"/>.</summary>
    internal sealed record RampingConstant(int Copies, TimeSpan During) : LoadSimulation;

    /// <summary>Open model: start <paramref name="Rate"/> iterations every <paramref name="Interval"/>, evenly spread, for <paramref name="During"/>.</summary>
    internal sealed record Inject(int Rate, TimeSpan Interval, TimeSpan During) : LoadSimulation;

    /// <summary>Open model: ramp the arrival rate linearly from the previous phase's rate to <paramref name="Rate"/> per <paramref name="Interval"/> over <paramref name="During"/>.</summary>
    internal sealed record RampingInject(int Rate, TimeSpan Interval, TimeSpan During) : LoadSimulation;

    /// <summary>No load for <paramref name="During"/>.</summary>
    internal sealed record Pause(TimeSpan During) : LoadSimulation;

    /// <summary>Closed model bounded by count: <paramref name="Copies"/> copies share <paramref name="Iterations"/> iterations, then the phase ends.</summary>
    internal sealed record IterationsForConstant(int Copies, long Iterations) : LoadSimulation;

    /// <summary>Open model bounded by count: start <paramref name="Rate"/> per <paramref name="Interval"/> until <paramref name="Iterations"/> have started.</summary>
    internal sealed record IterationsForInject(int Rate, TimeSpan Interval, long Iterations) : LoadSimulation;

    /// <summary>True for the closed-model phases (copies).</summary>
    public bool IsClosed => this is KeepConstant or RampingConstant or IterationsForConstant;

    /// <summary>True for the open-model phases (arrival rate).</summary>
    public bool IsOpen => this is Inject or RampingInject or IterationsForInject;

    /// <summary>The phase's duration, or null when it is bounded by a count.</summary>
    public TimeSpan? Duration => this switch
    {
        KeepConstant k => k.During,
        RampingConstant r => r.During,
        Inject i => i.During,
        RampingInject r => r.During,
        Pause p => p.During,
        _ => null,
    };

    /// <summary>Throws when a phase's arguments make no sense.</summary>
    public void Validate()
    {
        static void Positive(TimeSpan value, string what)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"{what} must be positive.");
            }
        }

        static void NotNegative(long value, string what)
        {
            if (value < 0)
            {
                throw new ArgumentException($"{what} must not be negative.");
            }
        }

        switch (this)
        {
            case KeepConstant k: NotNegative(k.Copies, "copies"); Positive(k.During, "during"); break;
            case RampingConstant r: NotNegative(r.Copies, "copies"); Positive(r.During, "during"); break;
            case Inject i: NotNegative(i.Rate, "rate"); Positive(i.Interval, "interval"); Positive(i.During, "during"); break;
            case RampingInject r: NotNegative(r.Rate, "rate"); Positive(r.Interval, "interval"); Positive(r.During, "during"); break;
            case Pause p: Positive(p.During, "during"); break;
            case IterationsForConstant c:
                if (c.Copies <= 0)
                {
                    throw new ArgumentException("copies must be positive.");
                }

                NotNegative(c.Iterations, "iterations");
                break;
            case IterationsForInject i:
                if (i.Rate <= 0)
                {
                    throw new ArgumentException("rate must be positive.");
                }

                Positive(i.Interval, "interval");
                NotNegative(i.Iterations, "iterations");
                break;
        }
    }

    /// <inheritdoc />
    public override string ToString() => this switch
    {
        KeepConstant k => $"KeepConstant(copies: {k.Copies}, during: {k.During})",
        RampingConstant r => $"RampingConstant(copies: {r.Copies}, during: {r.During})",
        Inject i => $"Inject(rate: {i.Rate}, interval: {i.Interval}, during: {i.During})",
        RampingInject r => $"RampingInject(rate: {r.Rate}, interval: {r.Interval}, during: {r.During})",
        Pause p => $"Pause(during: {p.During})",
        IterationsForConstant c => $"IterationsForConstant(copies: {c.Copies}, iterations: {c.Iterations})",
        IterationsForInject i => $"IterationsForInject(rate: {i.Rate}, interval: {i.Interval}, iterations: {i.Iterations})",
        _ => GetType().Name,
    };
}

/// <summary>The factory a test uses, named as in NBomber: <c>Simulation.KeepConstant(copies: 100, during: TimeSpan.FromMinutes(1))</c>.</summary>
internal static class Simulation
{
    /// <inheritdoc cref="LoadSimulation.KeepConstant"/>
    public static LoadSimulation KeepConstant(int copies, TimeSpan during) => new LoadSimulation.KeepConstant(copies, during);

    /// <inheritdoc cref="LoadSimulation.RampingConstant"/>
    public static LoadSimulation RampingConstant(int copies, TimeSpan during) => new LoadSimulation.RampingConstant(copies, during);

    /// <inheritdoc cref="LoadSimulation.Inject"/>
    public static LoadSimulation Inject(int rate, TimeSpan interval, TimeSpan during) => new LoadSimulation.Inject(rate, interval, during);

    /// <inheritdoc cref="LoadSimulation.RampingInject"/>
    public static LoadSimulation RampingInject(int rate, TimeSpan interval, TimeSpan during) => new LoadSimulation.RampingInject(rate, interval, during);

    /// <inheritdoc cref="LoadSimulation.Pause"/>
    public static LoadSimulation Pause(TimeSpan during) => new LoadSimulation.Pause(during);

    /// <inheritdoc cref="LoadSimulation.IterationsForConstant"/>
    public static LoadSimulation IterationsForConstant(int copies, long iterations) => new LoadSimulation.IterationsForConstant(copies, iterations);

    /// <inheritdoc cref="LoadSimulation.IterationsForInject"/>
    public static LoadSimulation IterationsForInject(int rate, TimeSpan interval, long iterations) => new LoadSimulation.IterationsForInject(rate, interval, iterations);
}
