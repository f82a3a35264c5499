using System.Reflection;

namespace Tcm.Features.Runner;

/// <summary>
/// The per-scenario container (shaped after Reqnroll's BoDi <c>IObjectContainer</c>). It creates binding classes and any
/// class their constructors ask for, once per scenario: two bindings asking for the same context class get the same
/// instance. Created objects that are <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/> are disposed after the
/// scenario, in reverse order of creation.
/// </summary>
internal interface IObjectContainer
{
    /// <summary>The scenario's instance of <typeparamref name="T"/>, created on first use.</summary>
    T Resolve<T>();

    /// <summary>The scenario's instance of <paramref name="type"/>, created on first use.</summary>
    object Resolve(Type type);

    /// <summary>
    /// Makes <paramref name="instance"/> what later resolutions of <typeparamref name="T"/> return (an interface, say).
    /// With <paramref name="dispose"/>, the container disposes it after the scenario.
    /// </summary>
    void RegisterInstanceAs<T>(T instance, bool dispose = false) where T : class;
}

/// <inheritdoc cref="IObjectContainer"/>
internal sealed class ObjectContainer : IObjectContainer, IAsyncDisposable
{
    private readonly Dictionary<Type, object> _instances = [];
    private readonly List<object> _owned = [];
    private readonly HashSet<Type> _resolving = [];

    public ObjectContainer() => _instances[typeof(IObjectContainer)] = this;

    public T Resolve<T>() => (T)Resolve(typeof(T));

    public object Resolve(Type type)
    {
        if (_instances.TryGetValue(type, out var existing))
        {
            return existing;
        }

        if (type.IsInterface || type.IsAbstract || type.IsPrimitive || type == typeof(string) || type.IsValueType)
        {
            throw new InvalidOperationException(
                $"The scenario container cannot create {type.Name}: register an instance first (IObjectContainer.RegisterInstanceAs) or ask for a concrete class.");
        }

        if (!_resolving.Add(type))
        {
            throw new InvalidOperationException(
                $"Circular constructor dependency: {string.Join(" -> ", _resolving.Select(t => t.Name))} -> {type.Name}.");
        }

        try
        {
            var ctor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
                .OrderByDescending(c => c.GetParameters().Length)
                .FirstOrDefault()
                ?? throw new InvalidOperationException($"The scenario container cannot create {type.Name}: it has no public constructor.");
            var args = ctor.GetParameters().Select(p => Resolve(p.ParameterType)).ToArray();
            object instance;
            try
            {
                instance = ctor.Invoke(args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                throw new InvalidOperationException($"The constructor of {type.Name} failed: {ex.InnerException.Message}", ex.InnerException);
            }

            _instances[type] = instance;
            _owned.Add(instance);
            return instance;
        }
        finally
        {
            _resolving.Remove(type);
        }
    }

    public void RegisterInstanceAs<T>(T instance, bool dispose = false)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(instance);
        _instances[typeof(T)] = instance;
        _instances.TryAdd(instance.GetType(), instance);
        if (dispose)
        {
            _owned.Add(instance);
        }
    }

    /// <summary>Disposes what the container created, newest first; the first failure is rethrown after all were tried.</summary>
    public async ValueTask DisposeAsync()
    {
        List<Exception>? errors = null;
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                switch (_owned[i])
                {
                    case IAsyncDisposable asyncDisposable:
                        await asyncDisposable.DisposeAsync();
                        break;
                    case IDisposable disposable:
                        disposable.Dispose();
                        break;
                }
            }
            catch (Exception ex)
            {
                (errors ??= []).Add(ex);
            }
        }

        _owned.Clear();
        _instances.Clear();
        if (errors is { Count: 1 })
        {
            throw new InvalidOperationException($"Disposing a scenario object failed: {errors[0].Message}", errors[0]);
        }

        if (errors is not null)
        {
            throw new AggregateException("Disposing scenario objects failed.", errors);
        }
    }
}
