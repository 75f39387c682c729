using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using DinCluster.Cluster.Serving;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Features;
using DinCluster.Model.Networks;

namespace DinCluster.Benchmarks.Serving;

/// <summary>Latency and rate of one request shape, measured in one run.</summary>
/// <param name="P50Milliseconds">Median round trip of one client sending requests back to back.</param>
/// <param name="RequestsPerSecond">Of that single client.</param>
/// <param name="ConcurrentRequestsPerSecond">Of <c>Clients</c> clients sending at once.</param>
/// <param name="ParseP50Milliseconds">Median of the JSON body -> batch step alone, in process (no HTTP).</param>
/// <param name="ScoreP50Milliseconds">Median of scoring the parsed batch alone (lookup + forward), in process.</param>
public sealed record ServeBenchRow(
    int Batch, int Requests, double P50Milliseconds, double P90Milliseconds, double P99Milliseconds, double MaxMilliseconds,
    double RequestsPerSecond, int Clients, double ConcurrentRequestsPerSecond,
    double ParseP50Milliseconds, double ScoreP50Milliseconds)
{
    public double ConcurrentSamplesPerSecond => ConcurrentRequestsPerSecond * Batch;
}

public sealed record ServeBenchResult(string Model, int Scorers, double MeanHistoryLength, IReadOnlyList<ServeBenchRow> Rows);

/// <summary>
/// `dincluster serve` measured over real HTTP on loopback: a <see cref="ScoringServer"/> in this
/// process, an <see cref="HttpClient"/> (keep-alive) sending POST /predict with JSON bodies of 1 or
/// 64 random samples (ids uniform over 100,000, histories 0..50 ids, mean ~25). Per batch size:
/// warm-up, then one client back to back (latency percentiles of the whole round trip: JSON
/// encode, HTTP, parse, embedding lookup, forward, answer), then several clients at once (rate).
/// </summary>
public static class ServeBench
{
    private const int WarmupRequests = 50;

    /// <summary>A freshly initialised default DIN (schema dim 64, maxlen 50): every id is unseen and embeds as its initial value.</summary>
    public static ModelScorer FreshModel(int scorers)
    {
        var schema = FeatureSchema.Default();
        var settings = new ModelSettings();
        var embeddings = new EmbeddingSettings();
        using var network = new DinNetwork(schema, settings);
        var tables = ServingTables.From(new ShardedEmbeddings(schema.Tables, 1, embeddings), schema, embeddings, UnseenIds.Init);
        return new ModelScorer(settings, network.GetDense(), network.GetBuffers(), tables, scorers, "fresh default DIN (dim 64)");
    }

    public static ServeBenchResult Run(ModelScorer scorer, IReadOnlyList<int> batches, int requests, int clients, int seed, TextWriter log)
    {
        var random = new Random(seed);
        var server = StartOnFreePort(scorer);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(clients, 1) * 2 }) { Timeout = TimeSpan.FromSeconds(60) };
        var uri = new Uri(server.Address, "predict");
        var rows = new List<ServeBenchRow>();
        double historySum = 0, historyCount = 0;
        try
        {
            foreach (var batch in batches)
            {
                // 32 distinct bodies per batch size, cycled (so the client side does not dominate)
                var bodies = Enumerable.Range(0, 32).Select(_ =>
                {
                    var samples = Enumerable.Range(0, batch).Select(_ => Sample(scorer.Schema, random, ref historySum, ref historyCount)).ToArray();
                    return batch == 1 ? samples[0].ToJsonString() : new JsonArray(samples).ToJsonString();
                }).ToArray();
                for (var i = 0; i < WarmupRequests; i++) Send(http, uri, bodies[i % bodies.Length]);

                var latencies = new double[requests];
                var total = Stopwatch.StartNew();
                for (var i = 0; i < requests; i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    Send(http, uri, bodies[i % bodies.Length]);
                    latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
                var sequential = requests / total.Elapsed.TotalSeconds;
                Array.Sort(latencies);

                var perClient = Math.Max(1, requests / clients);
                var concurrent = Stopwatch.StartNew();
                Task.WaitAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
                {
                    for (var i = 0; i < perClient; i++) await SendAsync(http, uri, bodies[(c + i) % bodies.Length]);
                })).ToArray());
                var rate = clients * perClient / concurrent.Elapsed.TotalSeconds;

                // the same bodies without HTTP: parsing alone, then scoring alone
                var bytes = bodies.Select(b => Encoding.UTF8.GetBytes(b)).ToArray();
                var parsed = bytes.Select(b => ScoringRequest.Parse(b, scorer.Schema, int.MaxValue).Batch).ToArray();
                var parse = new double[requests];
                var score = new double[requests];
                for (var i = 0; i < requests; i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    ScoringRequest.Parse(bytes[i % bytes.Length], scorer.Schema, int.MaxValue);
                    parse[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    start = Stopwatch.GetTimestamp();
                    scorer.Score(parsed[i % parsed.Length]);
                    score[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
                Array.Sort(parse);
                Array.Sort(score);

                var row = new ServeBenchRow(batch, requests, Percentile(latencies, 0.50), Percentile(latencies, 0.90), Percentile(latencies, 0.99),
                    latencies[^1], sequential, clients, rate, Percentile(parse, 0.5), Percentile(score, 0.5));
                log.WriteLine($"  batch {batch,3}: p50 {row.P50Milliseconds:F2} ms, p90 {row.P90Milliseconds:F2} ms, p99 {row.P99Milliseconds:F2} ms, max {row.MaxMilliseconds:F2} ms; "
                    + $"1 client {row.RequestsPerSecond:N0} req/s; {clients} clients {row.ConcurrentRequestsPerSecond:N0} req/s = {row.ConcurrentSamplesPerSecond:N0} samples/s; "
                    + $"in process: parse p50 {row.ParseP50Milliseconds:F2} ms, score p50 {row.ScoreP50Milliseconds:F2} ms");
                rows.Add(row);
            }
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        if (server.BadRequests > 0 || server.Failures > 0)
            throw new InvalidOperationException($"the server answered {server.BadRequests} bad requests and {server.Failures} failures during the benchmark");
        return new ServeBenchResult(scorer.Source, scorer.Scorers, historyCount > 0 ? historySum / historyCount : 0, rows);
    }

    private static JsonObject Sample(FeatureSchema schema, Random random, ref double historySum, ref double historyCount)
    {
        var sample = new JsonObject();
        foreach (var s in schema.Sparse) sample[s.Name] = random.NextInt64(100_000);
        var pairLength = random.Next(schema.VarLen.Count > 0 ? schema.VarLen[0].MaxLen + 1 : 1);
        var paired = schema.HistoryPairs.Select(p => p.History).ToHashSet();
        foreach (var v in schema.VarLen)
        {
            var length = paired.Contains(v.Name) ? pairLength : random.Next(v.MaxLen + 1);
            sample[v.Name] = new JsonArray(Enumerable.Range(0, length).Select(_ => (JsonNode)random.NextInt64(100_000)).ToArray());
        }
        foreach (var d in schema.Dense)
            sample[d.Name] = d.Dimension == 1 ? random.NextDouble() : new JsonArray(Enumerable.Range(0, d.Dimension).Select(_ => (JsonNode)random.NextDouble()).ToArray());
        historySum += pairLength;
        historyCount++;
        return sample;
    }

    private static void Send(HttpClient http, Uri uri, string body) => SendAsync(http, uri, body).GetAwaiter().GetResult();

    private static async Task SendAsync(HttpClient http, Uri uri, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(uri, content);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"POST /predict answered {(int)response.StatusCode}: {text}");
    }

    private static double Percentile(double[] sorted, double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];

    private static ScoringServer StartOnFreePort(ModelScorer scorer)
    {
        for (var attempt = 1; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var server = new ScoringServer(scorer, "127.0.0.1", port);
            try
            {
                server.Start();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // another process took the port between probe and bind
            }
        }
    }
}
