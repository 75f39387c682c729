using System.Text.Json;
using System.Text.Json.Nodes;

namespace DinCluster.Core.Features;

/// <summary>
/// The feature schema as JSON, the "features" part of a train config file:
/// <code>
/// {
///   "features": [
///     { "type": "sparse", "name": "user_id",      "table": "user", "dim": 64 },
///     { "type": "varlen", "name": "hist_item_id", "table": "item", "maxlen": 50 },
///     { "type": "dense",  "name": "price",        "dimension": 1 }
///   ],
///   "history_pairs": [ ["item_id", "hist_item_id"] ],
///   "label": "label"
/// }
/// </code>
/// Errors name the offending entry ("features[3].dim is missing").
/// </summary>
public static class FeatureSchemaJson
{
    public static FeatureSchema Parse(JsonNode root, string source)
    {
        SchemaException Bad(string what) => new($"{source}: {what}");

        var features = root["features"] as JsonArray ?? throw Bad("'features' is missing or not a list");
        var columns = new List<FeatureColumn>();
        for (var i = 0; i < features.Count; i++)
        {
            var f = features[i] as JsonObject ?? throw Bad($"features[{i}] is not an object");
            string Str(string key) =>
                f[key]?.GetValueKind() == JsonValueKind.String ? f[key]!.GetValue<string>() : throw Bad($"features[{i}].{key} is missing or not a string");
            int Int(string key) =>
                f[key]?.GetValueKind() == JsonValueKind.Number ? f[key]!.GetValue<int>() : throw Bad($"features[{i}].{key} is missing or not a number");
            var type = Str("type");
            columns.Add(type switch
            {
                "sparse" => new SparseFeat(Str("name"), f["table"] is null ? Str("name") : Str("table"), Int("dim")),
                "dense" => new DenseFeat(Str("name"), f["dimension"] is null ? 1 : Int("dimension")),
                "varlen" => new VarLenSparseFeat(Str("name"), Str("table"), Int("maxlen")),
                _ => throw Bad($"features[{i}].type is '{type}', must be sparse, dense or varlen"),
            });
        }
        var pairs = new List<HistoryPair>();
        if (root["history_pairs"] is JsonArray hp)
        {
            for (var i = 0; i < hp.Count; i++)
            {
                if (hp[i] is not JsonArray p || p.Count != 2 || p[0]?.GetValueKind() != JsonValueKind.String || p[1]?.GetValueKind() != JsonValueKind.String)
                    throw Bad($"history_pairs[{i}] must be [\"query feature\", \"history feature\"]");
                pairs.Add(new HistoryPair(p[0]!.GetValue<string>(), p[1]!.GetValue<string>()));
            }
        }
        var label = root["label"]?.GetValue<string>() ?? "label";
        var groupBy = root["group_by"]?.GetValue<string>() ?? "user_id";
        try
        {
            return new FeatureSchema(columns, pairs, label, groupBy);
        }
        catch (SchemaException e)
        {
            throw Bad(e.Message);
        }
    }

    public static FeatureSchema Load(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new SchemaException($"{path}: not valid JSON: {e.Message}");
        }
        return Parse(node ?? throw new SchemaException($"{path}: empty file"), path);
    }

    public static JsonObject ToJson(FeatureSchema schema)
    {
        var features = new JsonArray();
        foreach (var s in schema.Sparse) features.Add(new JsonObject { ["type"] = "sparse", ["name"] = s.Name, ["table"] = s.Table, ["dim"] = s.Dim });
        foreach (var v in schema.VarLen) features.Add(new JsonObject { ["type"] = "varlen", ["name"] = v.Name, ["table"] = v.Table, ["maxlen"] = v.MaxLen });
        foreach (var d in schema.Dense) features.Add(new JsonObject { ["type"] = "dense", ["name"] = d.Name, ["dimension"] = d.Dimension });
        var pairs = new JsonArray();
        foreach (var p in schema.HistoryPairs) pairs.Add(new JsonArray(p.Query, p.History));
        return new JsonObject
        {
            ["features"] = features,
            ["history_pairs"] = pairs,
            ["label"] = schema.Label,
            ["group_by"] = schema.GroupBy,
        };
    }
}
