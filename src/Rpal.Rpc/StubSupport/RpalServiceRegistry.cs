using System.Collections.Concurrent;

namespace Rpal.Rpc.Generated;

/// <summary>
/// Where generated code registers its descriptors (from a module initializer), so that
/// <see cref="RpalChannel.CreateClient{TService}()"/> and <see cref="RpalServer.AddService{TService}"/>
/// find them without reflection.
/// </summary>
public static class RpalServiceRegistry
{
    private static readonly ConcurrentDictionary<Type, RpalServiceDescriptor> s_descriptors = new();

    /// <summary>Registers the descriptor of <typeparamref name="TService"/> (the first one wins).</summary>
    public static void Register<TService>(RpalServiceDescriptor<TService> descriptor)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        s_descriptors.TryAdd(typeof(TService), descriptor);
    }

    /// <summary>The descriptor of <typeparamref name="TService"/>.</summary>
    /// <exception cref="InvalidOperationException">No generated code for the type was loaded.</exception>
    public static RpalServiceDescriptor<TService> Get<TService>()
        where TService : class
    {
        if (s_descriptors.TryGetValue(typeof(TService), out RpalServiceDescriptor? d))
        {
            return (RpalServiceDescriptor<TService>)d;
        }

        // The generated module initializer runs when its assembly's code is first used, which
        // naming the interface type alone does not do: run it now.
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(typeof(TService).Module.ModuleHandle);
        if (s_descriptors.TryGetValue(typeof(TService), out d))
        {
            return (RpalServiceDescriptor<TService>)d;
        }

        throw new InvalidOperationException(
            $"No Rpal code was generated for {typeof(TService)}. Mark the interface with [RpalService(\"name\")] "
            + "and reference the Rpal.Rpc.Generator project as an analyzer "
            + "(OutputItemType=\"Analyzer\" ReferenceOutputAssembly=\"false\").");
    }
}
