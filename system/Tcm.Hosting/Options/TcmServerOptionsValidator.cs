using Microsoft.Extensions.Options;

namespace Tcm.Hosting.Options;

/// <summary>
/// The validator of a server's options: the checks of <see cref="TcmServerOptions"/> (data folder, listen address, port),
/// then the server's own; every failure is reported at once, each naming its setting.
/// </summary>
/// <param name="sectionName">The configuration section, the prefix of every setting's name.</param>
/// <param name="dataPurpose">What the data folder holds and its default, e.g. <c>the database and the CA (default 'data/ns')</c>.</param>
public abstract class TcmServerOptionsValidator<TOptions>(string sectionName, string dataPurpose) : IValidateOptions<TOptions>
    where TOptions : TcmServerOptions
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new OptionsFailures(sectionName);
        failures.Server(options, dataPurpose);
        Validate(options, failures);
        return failures.Result;
    }

    /// <summary>The server's own checks, adding to <paramref name="failures"/>.</summary>
    protected abstract void Validate(TOptions options, OptionsFailures failures);
}
