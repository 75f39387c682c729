using System.Runtime.InteropServices;
using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Serving;
using DinCluster.Model.Training;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster serve`: answers scoring requests over HTTP until SIGINT/SIGTERM.</summary>
public static class ServeCommand
{
    public const string Help = """
        dincluster serve --model CKPT --port P [--host 127.0.0.1] [options]

          --model CKPT        a checkpoint folder, or a run folder (its newest valid checkpoint)
          --port P            TCP port
          --host H            default 127.0.0.1 (loopback only); 0.0.0.0 listens on every interface
          --scorers N         requests scored at once, one network copy each (default: cores)
          --threads T         libtorch intra-op threads (default: cores / scorers, at least 1)
          --max-batch N       samples per request at most (default 4096)
          --unseen init|zero  unseen ids embed as their initial value (default, as evaluate and
                              predict) or as zeros (as the PyTorch export)

        POST /predict  {"user_id": 7, "item_id": 31, "category_id": 2, "hist_item_id": [5, 9],
                        "hist_category_id": [1, 2], ...every other feature of the model's schema}
                       -> {"probability": 0.31};  an array of such objects -> {"probabilities": [...]}
                       a missing or bad field -> 400 {"error": "hist_item_id[1]: is a string, must be ..."}
        GET  /health   -> {"status": "ok", "model": ..., "features": [...], "requests": N, ...}
        """;

    public static int Run(CliArgs args)
    {
        var modelPath = args.Require("model");
        var port = args.Int("port", 0);
        if (!args.Has("port")) throw new CliException("--port is required");
        var host = args.Get("host", "127.0.0.1");
        var scorers = args.Int("scorers", Environment.ProcessorCount);
        if (scorers <= 0) throw new CliException($"--scorers is set to {scorers}, must be > 0");
        var threads = args.Int("threads", Math.Max(1, Environment.ProcessorCount / scorers));
        if (threads <= 0) throw new CliException($"--threads is set to {threads}, must be > 0");
        var maxBatch = args.Int("max-batch", 4096);
        if (maxBatch <= 0) throw new CliException($"--max-batch is set to {maxBatch}, must be > 0");
        var unseen = PredictCommand.ParseUnseen(args.Get("unseen", "init"));
        args.RejectUnknown();
        if (port is <= 0 or > 65535) throw new CliException($"--port is set to {port}, must be 1..65535");

        var dir = ModelCheckpoint.Resolve(modelPath, (d, why) => Console.Error.WriteLine($"refused checkpoint {d}: {why}"));
        var model = ModelCheckpoint.Load(dir);
        var step = model.Manifest.Step;
        TorchThreads.Configure(threads);
        // the last use of the checkpoint's shards (optimizer slots included): after the copy they can go
        using var scorer = ModelScorer.FromCheckpoint(model, scorers, unseen);
        var server = new ScoringServer(scorer, host, port, maxBatch);
        server.Start();

        var stop = new TaskCompletionSource();
        void Stop(PosixSignalContext c)
        {
            c.Cancel = true;
            stop.TrySetResult();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

        var tables = string.Join(", ", scorer.Schema.Tables.Select((t, i) => $"{t.Name} {scorer.Tables.Rows(i):N0} x {t.Dim}"));
        Console.WriteLine($"serving {dir} (step {step}) on {server.Address} (POST /predict, GET /health): "
            + $"{scorers} scorer(s) x {threads} libtorch thread(s), tables {tables}; unseen ids -> {unseen.ToString().ToLowerInvariant()}; Ctrl+C stops");
        // A status line every 30 s while requests come in.
        long lastRequests = 0;
        while (!stop.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            if (server.Requests == lastRequests) continue;
            lastRequests = server.Requests;
            Console.WriteLine($"serve: {server.Requests:N0} requests, {server.Samples:N0} samples, {server.BadRequests:N0} bad requests, {server.Failures:N0} failures");
        }
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.WriteLine($"serve: stopped after {server.Requests:N0} requests ({server.Samples:N0} samples scored, {server.BadRequests:N0} bad requests, {server.Failures:N0} failures)");
        return 0;
    }
}
