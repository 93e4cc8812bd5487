/*
 * Loads a SavedModel with TensorFlow's C API (no JVM) and runs one float32 input through one output.
 *
 * usage: capi_predict EXPORT_DIR INPUT_TENSOR OUTPUT_TENSOR N D K IN.bin OUT.bin
 *   IN.bin holds N*D little-endian float32 values (shape [N, D]); OUT.bin receives N*K float32 values.
 *   Tensor names are "op" or "op:index", as in the signature (e.g. inputs:0, logits:0).
 *
 * The TensorFlow Java native jar ships libtensorflow_cc.so.2 (which exports the C API) but no headers, so the few
 * declarations used here are written out below from the documented C API (tensorflow/c/c_api.h, c_api_types.h,
 * tf_tensor.h, tf_status.h). Exit status: 0 success, 1 TensorFlow error, 2 bad usage or I/O.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct TF_Status TF_Status;
typedef struct TF_Graph TF_Graph;
typedef struct TF_SessionOptions TF_SessionOptions;
typedef struct TF_Session TF_Session;
typedef struct TF_Buffer TF_Buffer;
typedef struct TF_Operation TF_Operation;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_Output {
  TF_Operation* oper;
  int index;
} TF_Output;
typedef enum TF_DataType { TF_FLOAT = 1 } TF_DataType;

extern const char* TF_Version(void);
extern TF_Status* TF_NewStatus(void);
extern void TF_DeleteStatus(TF_Status*);
extern int TF_GetCode(const TF_Status*);
extern const char* TF_Message(const TF_Status*);
extern TF_Graph* TF_NewGraph(void);
extern void TF_DeleteGraph(TF_Graph*);
extern TF_SessionOptions* TF_NewSessionOptions(void);
extern void TF_DeleteSessionOptions(TF_SessionOptions*);
extern TF_Session* TF_LoadSessionFromSavedModel(const TF_SessionOptions* session_options, const TF_Buffer* run_options,
                                                const char* export_dir, const char* const* tags, int tags_len,
                                                TF_Graph* graph, TF_Buffer* meta_graph_def, TF_Status* status);
extern TF_Operation* TF_GraphOperationByName(TF_Graph* graph, const char* oper_name);
extern TF_Tensor* TF_AllocateTensor(TF_DataType, const int64_t* dims, int num_dims, size_t len);
extern void* TF_TensorData(const TF_Tensor*);
extern size_t TF_TensorByteSize(const TF_Tensor*);
extern int TF_NumDims(const TF_Tensor*);
extern int64_t TF_Dim(const TF_Tensor*, int dim_index);
extern int TF_TensorType(const TF_Tensor*);
extern void TF_DeleteTensor(TF_Tensor*);
extern void TF_SessionRun(TF_Session* session, const TF_Buffer* run_options, const TF_Output* inputs,
                          TF_Tensor* const* input_values, int ninputs, const TF_Output* outputs,
                          TF_Tensor** output_values, int noutputs, const TF_Operation* const* target_opers,
                          int ntargets, TF_Buffer* run_metadata, TF_Status* status);
extern void TF_CloseSession(TF_Session*, TF_Status*);
extern void TF_DeleteSession(TF_Session*, TF_Status*);

/* "name:3" -> operation "name", index 3; "name" -> index 0. */
static TF_Output output_of(TF_Graph* g, const char* tensor) {
  char op[512];
  TF_Output out = {NULL, 0};
  const char* colon = strrchr(tensor, ':');
  size_t len = colon ? (size_t)(colon - tensor) : strlen(tensor);
  if (len >= sizeof op) return out;
  memcpy(op, tensor, len);
  op[len] = '\0';
  out.oper = TF_GraphOperationByName(g, op);
  out.index = colon ? atoi(colon + 1) : 0;
  return out;
}

int main(int argc, char** argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s EXPORT_DIR INPUT_TENSOR OUTPUT_TENSOR N D K IN.bin OUT.bin\n", argv[0]);
    return 2;
  }
  const char* dir = argv[1];
  int64_t n = atoll(argv[4]), d = atoll(argv[5]), k = atoll(argv[6]);
  size_t in_bytes = (size_t)(n * d) * sizeof(float);
  float* x = malloc(in_bytes);
  FILE* f = fopen(argv[7], "rb");
  if (!x || !f || fread(x, 1, in_bytes, f) != in_bytes) {
    fprintf(stderr, "capi_predict: cannot read %lld x %lld floats from %s\n", (long long)n, (long long)d, argv[7]);
    return 2;
  }
  fclose(f);

  TF_Status* status = TF_NewStatus();
  TF_Graph* graph = TF_NewGraph();
  TF_SessionOptions* opts = TF_NewSessionOptions();
  const char* tags[] = {"serve"};
  TF_Session* session = TF_LoadSessionFromSavedModel(opts, NULL, dir, tags, 1, graph, NULL, status);
  TF_DeleteSessionOptions(opts);
  if (TF_GetCode(status) != 0) {
    fprintf(stderr, "capi_predict: loading %s: %s\n", dir, TF_Message(status));
    return 1;
  }
  TF_Output in = output_of(graph, argv[2]);
  TF_Output out = output_of(graph, argv[3]);
  if (!in.oper || !out.oper) {
    fprintf(stderr, "capi_predict: no tensor %s or %s in the graph\n", argv[2], argv[3]);
    return 2;
  }
  int64_t dims[2] = {n, d};
  TF_Tensor* xt = TF_AllocateTensor(TF_FLOAT, dims, 2, in_bytes);
  memcpy(TF_TensorData(xt), x, in_bytes);
  TF_Tensor* yt = NULL;
  TF_SessionRun(session, NULL, &in, &xt, 1, &out, &yt, 1, NULL, 0, NULL, status);
  if (TF_GetCode(status) != 0) {
    fprintf(stderr, "capi_predict: running %s: %s\n", dir, TF_Message(status));
    return 1;
  }
  if (TF_TensorType(yt) != TF_FLOAT || TF_NumDims(yt) != 2 || TF_Dim(yt, 0) != n || TF_Dim(yt, 1) != k) {
    fprintf(stderr, "capi_predict: output is not float32 [%lld, %lld]\n", (long long)n, (long long)k);
    return 1;
  }
  FILE* o = fopen(argv[8], "wb");
  if (!o || fwrite(TF_TensorData(yt), 1, TF_TensorByteSize(yt), o) != TF_TensorByteSize(yt) || fclose(o) != 0) {
    fprintf(stderr, "capi_predict: cannot write %s\n", argv[8]);
    return 2;
  }
  fprintf(stderr, "capi_predict: TensorFlow %s, %s -> %lld x %lld\n", TF_Version(), dir, (long long)n, (long long)k);
  TF_DeleteTensor(xt);
  TF_DeleteTensor(yt);
  TF_CloseSession(session, status);
  TF_DeleteSession(session, status);
  TF_DeleteGraph(graph);
  TF_DeleteStatus(status);
  free(x);
  return 0;
}
