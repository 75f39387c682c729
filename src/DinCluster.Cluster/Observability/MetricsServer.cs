using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DinCluster.Cluster.Observability;

/// <summary>
/// Serves <see cref="MetricsRegistry"/> in Prometheus text format at http://HOST:PORT/metrics
/// (any path answers the same) over <see cref="HttpListener"/>: no dependency beyond the runtime.
/// One per process: in the simulated cluster it serves every node of the process, told apart by
/// their <c>node</c> label. Port 0 picks a free port (see <see cref="Port"/>).
/// </summary>
public sealed class MetricsServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly MetricsRegistry _registry;
    private readonly Task _loop;

    private MetricsServer(HttpListener listener, int port, MetricsRegistry registry)
    {
        _listener = listener;
        _registry = registry;
        Port = port;
        _loop = Task.Run(Serve);
    }

    public int Port { get; }

    /// <summary>
    /// Listens on every interface (<c>http://+:PORT/</c>; a container's port must be reachable from
    /// outside it) for port <paramref name="port"/>, or a free one when 0.
    /// </summary>
    public static MetricsServer Start(int port, MetricsRegistry? registry = null)
    {
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "metrics port must be in 0..65535 (0 = any free port)");
        var chosen = port > 0 ? port : FreePort();
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://+:{chosen}/");
        try
        {
            listener.Start();
        }
        catch (HttpListenerException e)
        {
            throw new InvalidOperationException($"metrics port {chosen}: cannot listen ({e.Message})", e);
        }
        return new MetricsServer(listener, chosen, registry ?? MetricsRegistry.Process);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Any, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            try
            {
                var body = Encoding.UTF8.GetBytes(_registry.Render());
                context.Response.StatusCode = 200;
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The scraper went away mid-answer; the next scrape is answered as usual.
            }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
