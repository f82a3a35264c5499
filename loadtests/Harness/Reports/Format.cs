namespace Tcm.LoadTests.Harness.Reports;

/// <summary>Number formatting shared by the report writers (invariant culture).</summary>
internal static class Format
{
    public static string Ms(double ms) => ms switch
    {
        0 => "0",
        < 1 => ms.ToString("0.###", CultureInfo.InvariantCulture),
        < 100 => ms.ToString("0.##", CultureInfo.InvariantCulture),
        _ => ms.ToString("0", CultureInfo.InvariantCulture),
    };

    public static string Number(double value) => Math.Abs(value) switch
    {
        >= 1000 => value.ToString("#,0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.#", CultureInfo.InvariantCulture),
        _ => value.ToString("0.###", CultureInfo.InvariantCulture),
    };

    public static string Bytes(double bytes) => Math.Abs(bytes) switch
    {
        >= 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024 * 1024)).ToString("0.##", CultureInfo.InvariantCulture) + " GB",
        >= 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.##", CultureInfo.InvariantCulture) + " MB",
        >= 1024 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KB",
        _ => bytes.ToString("0", CultureInfo.InvariantCulture) + " B",
    };

    /// <summary>A gauge with its unit, bytes made readable.</summary>
    public static string Gauge(double value, string unit) => unit.ToLowerInvariant() switch
    {
        "bytes" => Bytes(value),
        "%" => value.ToString("0.##", CultureInfo.InvariantCulture) + " %",
        "" => Number(value),
        _ => Number(value) + " " + unit,
    };

    public static string Ratio(double? ratio) => ratio is null ? "n/a" : ratio.Value.ToString("0.00", CultureInfo.InvariantCulture) + "x";

    public static string Invariant(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);
}
