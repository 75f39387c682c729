using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace DinCluster.Cluster.Serving;

/// <summary>
/// HTTP front of a <see cref="ModelScorer"/> on <see cref="HttpListener"/> (part of the base .NET
/// runtime, so the runtime-only container image serves too; Kestrel would need ASP.NET Core's).
/// <code>
///   POST /predict   body: one sample object  -> 200 {"probability": p}
///                   body: [objects]          -> 200 {"probabilities": [p, ...]}
///                   a bad field              -> 400 {"error": "hist_item_id[2]: is a string, ..."}
///   GET  /health    -> 200 {"status": "ok", "model": ..., "scorers": N, "requests": N, ...}
/// </code>
/// Each request is handled on the thread pool; at most <see cref="ModelScorer.Scorers"/> score at once.
/// </summary>
public sealed class ScoringServer : IAsyncDisposable
{
    /// <summary>Largest accepted request body.</summary>
    public const int MaxBodyBytes = 16 << 20;

    private readonly ModelScorer _scorer;
    private readonly HttpListener _listener = new();
    private readonly int _maxSamples;
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _inFlight = new();
    private Task _accept = Task.CompletedTask;
    private long _requests;
    private long _samples;
    private long _badRequests;
    private long _failures;

    public Uri Address { get; }

    public long Requests => Interlocked.Read(ref _requests);
    public long Samples => Interlocked.Read(ref _samples);
    public long BadRequests => Interlocked.Read(ref _badRequests);
    public long Failures => Interlocked.Read(ref _failures);

    /// <param name="host">127.0.0.1 (default in the CLI), a host name, or 0.0.0.0 / * for every interface.</param>
    public ScoringServer(ModelScorer scorer, string host, int port, int maxSamples = 4096)
    {
        if (port is <= 0 or > 65535) throw new ArgumentException($"--port is set to {port}, must be 1..65535");
        _scorer = scorer;
        _maxSamples = maxSamples;
        // HttpListener matches the Host header against its prefixes: on loopback, answer both names.
        string[] hosts = host switch
        {
            "0.0.0.0" or "*" or "+" => ["*"],
            "127.0.0.1" or "localhost" => ["127.0.0.1", "localhost"],
            _ => [host],
        };
        foreach (var h in hosts) _listener.Prefixes.Add($"http://{h}:{port}/");
        Address = new Uri($"http://{(hosts[0] == "*" ? "127.0.0.1" : hosts[0])}:{port}/");
    }

    /// <summary>Binds the port and starts answering; throws when the port cannot be bound.</summary>
    public void Start()
    {
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException e)
        {
            throw new InvalidOperationException($"cannot listen on {Address}: {e.Message}", e);
        }
        _accept = Task.Run(AcceptLoop);
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue;   // one failed accept (a connection reset early) does not stop the server
            }
            var handler = Task.Run(() => HandleAsync(context));
            _inFlight.TryAdd(handler, 0);
            _ = handler.ContinueWith(t => _inFlight.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            var path = request.Url?.AbsolutePath ?? "/";
            switch (path, request.HttpMethod)
            {
                case ("/predict", "POST"):
                    await PredictAsync(request, response);
                    break;
                case ("/health", "GET"):
                    await WriteJson(response, 200, Health());
                    break;
                case ("/predict", _) or ("/health", _):
                    response.AddHeader("Allow", path == "/predict" ? "POST" : "GET");
                    await WriteJson(response, 405, new { error = $"{request.HttpMethod} {path} is not supported; use {(path == "/predict" ? "POST" : "GET")}" });
                    break;
                default:
                    await WriteJson(response, 404, new { error = $"no route {path}; POST /predict or GET /health" });
                    break;
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // the client went away; nothing to answer
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _failures);
            try
            {
                await WriteJson(response, 500, new { error = e.Message });
            }
            catch (Exception closed) when (closed is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // the response may already be closed
            }
        }
    }

    private async Task PredictAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        Interlocked.Increment(ref _requests);
        var body = await ReadBody(request);
        if (body is null)
        {
            Interlocked.Increment(ref _badRequests);
            await WriteJson(response, 413, new { error = $"body is over {MaxBodyBytes} bytes" });
            return;
        }
        Core.Batches.Batch batch;
        bool isArray;
        try
        {
            (batch, isArray) = ScoringRequest.Parse(body, _scorer.Schema, _maxSamples);
        }
        catch (ScoringRequestException e)
        {
            Interlocked.Increment(ref _badRequests);
            await WriteJson(response, 400, new { error = e.Message });
            return;
        }
        var scored = await _scorer.ScoreAsync(batch, _stop.Token);
        Interlocked.Add(ref _samples, batch.Count);
        await WriteRaw(response, 200, isArray ? ArrayBody(scored.Probabilities) : ObjectBody(scored.Probabilities[0]));
    }

    private object Health() => new
    {
        status = "ok",
        model = _scorer.Source,
        scorers = _scorer.Scorers,
        unseen_ids = _scorer.Tables.Unseen.ToString().ToLowerInvariant(),
        features = _scorer.Schema.Sparse.Select(s => s.Name).Concat(_scorer.Schema.VarLen.Select(v => v.Name)).Concat(_scorer.Schema.Dense.Select(d => d.Name)).ToArray(),
        requests = Requests,
        samples = Samples,
        bad_requests = BadRequests,
    };

    /// <summary>The body, or null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadBody(HttpListenerRequest request)
    {
        if (request.ContentLength64 > MaxBodyBytes) return null;
        using var buffer = new MemoryStream(request.ContentLength64 > 0 ? (int)request.ContentLength64 : 4096);
        var chunk = new byte[16384];
        int read;
        while ((read = await request.InputStream.ReadAsync(chunk)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    // Probabilities written with "R" so a client reads back exactly the float the model computed.
    private static string ObjectBody(float p) => string.Create(CultureInfo.InvariantCulture, $"{{\"probability\":{p:R}}}");

    private static string ArrayBody(float[] ps)
    {
        var b = new StringBuilder(16 + ps.Length * 12).Append("{\"probabilities\":[");
        for (var i = 0; i < ps.Length; i++)
        {
            if (i > 0) b.Append(',');
            b.Append(ps[i].ToString("R", CultureInfo.InvariantCulture));
        }
        return b.Append("]}").ToString();
    }

    private static Task WriteJson(HttpListenerResponse response, int status, object body) =>
        WriteRaw(response, status, JsonSerializer.Serialize(body));

    private static async Task WriteRaw(HttpListenerResponse response, int status, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_listener.IsListening) _listener.Stop();
        await _accept;
        // requests being scored finish before the caller may dispose the scorer
        await Task.WhenAll(_inFlight.Keys);
        _listener.Close();
        _stop.Dispose();
    }
}
