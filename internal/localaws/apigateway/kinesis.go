package apigateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf16"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// PutRecordsAPI is the one Kinesis method the in-memory service needs; the local chain's stream
// implements it.
type PutRecordsAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// KinesisHandler serves Kinesis' PutRecords over the JSON 1.1 protocol for in-memory streams by
// name, with the call's documented limits
// (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html): 1 to 500
// records, a partition key of 1 to 256 characters, at most 1 MiB per record (data and key) and
// 5 MiB per call.
type KinesisHandler struct {
	Streams map[string]PutRecordsAPI
}

type kinesisError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func writeKinesis(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeHTTP implements http.Handler.
func (k KinesisHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "Kinesis_20131202.PutRecords" {
		writeKinesis(w, http.StatusBadRequest, kinesisError{"UnknownOperationException", "only PutRecords is served"})
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		writeKinesis(w, http.StatusBadRequest, kinesisError{"SerializationException", "cannot read the request"})
		return
	}
	var in struct {
		StreamName *string
		Records    []struct {
			Data            []byte
			PartitionKey    *string
			ExplicitHashKey *string
		}
	}
	if err := json.Unmarshal(b, &in); err != nil {
		writeKinesis(w, http.StatusBadRequest, kinesisError{"SerializationException", "the request is not a PutRecords request"})
		return
	}
	name := aws.ToString(in.StreamName)
	st, ok := k.Streams[name]
	if !ok {
		writeKinesis(w, http.StatusBadRequest, kinesisError{"ResourceNotFoundException", fmt.Sprintf("Stream %s under account 123456789012 not found.", name)})
		return
	}
	if len(in.Records) < 1 || len(in.Records) > 500 {
		writeKinesis(w, http.StatusBadRequest, kinesisError{"ValidationException", fmt.Sprintf("1 validation error detected: Value '%d' at 'records' failed to satisfy constraint: Member must have length between 1 and 500", len(in.Records))})
		return
	}
	total := 0
	recs := make([]types.PutRecordsRequestEntry, len(in.Records))
	for i, rec := range in.Records {
		key := aws.ToString(rec.PartitionKey)
		if n := len(utf16.Encode([]rune(key))); n < 1 || n > 256 {
			writeKinesis(w, http.StatusBadRequest, kinesisError{"ValidationException", fmt.Sprintf("1 validation error detected: Value at 'records.%d.member.partitionKey' failed to satisfy constraint: Member must have length between 1 and 256", i+1)})
			return
		}
		size := len(rec.Data) + len(key)
		if size > 1<<20 {
			writeKinesis(w, http.StatusBadRequest, kinesisError{"ValidationException", fmt.Sprintf("1 validation error detected: Value at 'records.%d.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576", i+1)})
			return
		}
		total += size
		recs[i] = types.PutRecordsRequestEntry{Data: rec.Data, PartitionKey: rec.PartitionKey, ExplicitHashKey: rec.ExplicitHashKey}
	}
	if total > 5<<20 {
		writeKinesis(w, http.StatusBadRequest, kinesisError{"InvalidArgumentException", "Records size exceeds 5 MB limit"})
		return
	}
	out, err := st.PutRecords(r.Context(), &kinesis.PutRecordsInput{StreamName: in.StreamName, Records: recs})
	if err != nil {
		typ := "InternalFailure"
		if strings.Contains(err.Error(), "ResourceNotFoundException") {
			typ = "ResourceNotFoundException"
		}
		writeKinesis(w, http.StatusBadRequest, kinesisError{typ, "the stream did not take the records"})
		return
	}
	type entry struct {
		SequenceNumber *string `json:",omitempty"`
		ShardID        *string `json:"ShardId,omitempty"`
		ErrorCode      *string `json:",omitempty"`
		ErrorMessage   *string `json:",omitempty"`
	}
	resp := struct {
		FailedRecordCount int32
		Records           []entry
	}{FailedRecordCount: aws.ToInt32(out.FailedRecordCount)}
	for _, e := range out.Records {
		resp.Records = append(resp.Records, entry{e.SequenceNumber, e.ShardId, e.ErrorCode, e.ErrorMessage})
	}
	writeKinesis(w, http.StatusOK, resp)
}
