namespace Rpal.Rpc.Hosting;

/// <summary>One service added with <c>IRpalServerBuilder.AddService</c>: adds itself to the server when the container builds it.</summary>
internal sealed class RpalServiceRegistration(Action<RpalServer, IServiceProvider> add)
{
    public void AddTo(RpalServer server, IServiceProvider services) => add(server, services);
}
