namespace DinCluster.Data;
internal static class AssemblyMarker { }
