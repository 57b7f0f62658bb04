package ui

import (
	"reflect"
	"testing"
)

// TestChatOf: a chat span's conversation out of OpenAI's (and MLflow's)
// chat formats; spans of other kinds have none.
func TestChatOf(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		want    []chatMessage
	}{
		{`{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}], "model": "gpt-4o"}`,
			`{"id": "c-1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}]}`,
			[]chatMessage{{"system", "Be brief."}, {"user", "Capital of France?"}, {"assistant", "Paris."}}},
		{`{"messages": [{"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {"url": "x"}}]}]}`,
			`{"role": "assistant", "content": "A cat."}`,
			[]chatMessage{{"user", "Describe"}, {"assistant", "A cat."}}},
		{`{"messages": [{"role": "user", "content": "hi"}]}`, ``, []chatMessage{{"user", "hi"}}},
		{`{"question": "why?"}`, `"because"`, nil},
		{`not json`, ``, nil},
	} {
		if got := chatOf(tc.in, tc.out); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("chatOf(%s, %s) = %v, want %v", tc.in, tc.out, got, tc.want)
		}
	}
}
