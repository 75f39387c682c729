using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Features;
using DinCluster.Core.Optimizers;
using DinCluster.Data;
using DinCluster.Model.Networks;

namespace DinCluster.Cluster.Jobs;

/// <summary>
/// A <see cref="TrainJob"/> as JSON, so the coordinator can hand the job to nodes that were
/// started with only a role, a port and seeds. Configuration only: rows, gradients and weights
/// never go through JSON.
/// </summary>
public static class TrainJobJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Write(TrainJob job)
    {
        var root = new JsonObject
        {
            ["data_dir"] = job.DataDir,
            ["out_dir"] = job.OutDir,
            ["schema"] = FeatureSchemaJson.ToJson(job.Schema),
            ["model"] = JsonSerializer.SerializeToNode(job.Model, Options),
            ["embeddings"] = JsonSerializer.SerializeToNode(job.Embeddings, Options),
            ["dense"] = JsonSerializer.SerializeToNode(job.Dense, Options),
            ["epochs"] = job.Epochs,
            ["batch_size"] = job.BatchSize,
            ["eval_batch_size"] = job.EvalBatchSize,
            ["seed"] = job.Seed,
            ["on_bad_input"] = job.OnBadInput.ToString(),
            ["log_every_steps"] = job.LogEverySteps,
            ["ps_shards"] = job.PsShards,
            ["max_steps"] = job.MaxSteps,
            ["torch_threads"] = job.TorchThreads,
            ["lanes"] = job.Lanes,
            ["checkpoint_every_steps"] = job.CheckpointEverySteps,
            ["checkpoint_every_minutes"] = job.CheckpointEveryMinutes,
            ["resume"] = job.Resume,
        };
        return root.ToJsonString();
    }

    public static TrainJob Read(string json)
    {
        var root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("job JSON is not an object");
        T Get<T>(string key) => root[key] is { } node
            ? node.Deserialize<T>(Options) ?? throw new InvalidDataException($"job JSON: '{key}' is null")
            : throw new InvalidDataException($"job JSON: '{key}' is missing");
        return new TrainJob
        {
            DataDir = Get<string>("data_dir"),
            OutDir = Get<string>("out_dir"),
            Schema = FeatureSchemaJson.Parse(root["schema"] ?? throw new InvalidDataException("job JSON: 'schema' is missing"), "job"),
            Model = Get<ModelSettings>("model"),
            Embeddings = Get<EmbeddingSettings>("embeddings"),
            Dense = Get<AdamSettings>("dense"),
            Epochs = Get<int>("epochs"),
            BatchSize = Get<int>("batch_size"),
            EvalBatchSize = Get<int>("eval_batch_size"),
            Seed = Get<long>("seed"),
            OnBadInput = Enum.Parse<BadInputPolicy>(Get<string>("on_bad_input")),
            LogEverySteps = Get<int>("log_every_steps"),
            PsShards = Get<int>("ps_shards"),
            MaxSteps = Get<long>("max_steps"),
            TorchThreads = Get<int>("torch_threads"),
            Lanes = Get<int>("lanes"),
            CheckpointEverySteps = root["checkpoint_every_steps"]?.GetValue<long>() ?? 0,
            CheckpointEveryMinutes = root["checkpoint_every_minutes"]?.GetValue<double>() ?? 0,
            Resume = root["resume"]?.GetValue<bool>() ?? false,
        };
    }
}
